#include "perf/bench_options.hpp"

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "shared/tunnel_table.hpp"

namespace tsp::perf {

namespace {
// The inner packet must fit the tunnel MTU (1280), or encapsulation answers Packet Too Big.
constexpr uint32_t kMaxPayload = 1280 - 40 - 8;
}  // namespace

uint32_t templates_for(const BenchOptions& opts, uint32_t tunnels) {
  if (opts.templates) return *opts.templates;
  return tunnels > 65536 ? 65536 : 8192;
}

std::optional<int> parse_bench_options(int argc, char** argv, BenchOptions& out) {
  CLI::App app{
      "dp_bench: cycles per packet of the dataplane pipeline (process_packet) beside a bare "
      "receive/look-up/rewrite loop, on prebuilt packets, one pinned core, no NIC"};
  app.add_option("--tunnels", out.tunnels, "tunnel counts to measure, one table each")
      ->delimiter(',')
      ->check(CLI::Range(2u, TunnelTable::kMaxCapacity))
      ->capture_default_str();
  std::vector<std::string> known_scenarios, scenario_names;
  for (Scenario s : kScenarios) known_scenarios.emplace_back(scenario_name(s));
  app.add_option("--scenarios", scenario_names, "scenarios to measure (default: all)")
      ->delimiter(',')
      ->check(CLI::IsMember(known_scenarios));
  app.add_option("--packets", out.packets, "packets per timed loop")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--rounds", out.rounds, "rounds interleaving the variants; figures are medians over them")
      ->check(CLI::Range(1u, 10000u))
      ->capture_default_str();
  app.add_option("--templates", out.templates,
                 "prebuilt frames per scenario (default: 8192, 65536 for tables over 65536 tunnels)")
      ->check(CLI::Range(1u, 1u << 18));
  app.add_option("--payload", out.payload, "UDP payload bytes of the inner IPv6 packet")
      ->check(CLI::Range(0u, kMaxPayload))
      ->capture_default_str();
  app.add_option("--cpu", out.cpu, "CPU to pin the benchmark to (default: the first one allowed)");
  app.add_option("--seed", out.seed, "random seed for tunnels and packets")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (!scenario_names.empty()) {
    out.scenarios.clear();
    for (const std::string& name : scenario_names) out.scenarios.push_back(*scenario_from_name(name));
  }
  return std::nullopt;
}

}  // namespace tsp::perf
