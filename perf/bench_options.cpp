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
  std::vector<std::string> distribution_names;
  app.add_option("--distribution", distribution_names, "how frames pick their tunnel: uniform, zipf (default: uniform)")
      ->delimiter(',')
      ->check(CLI::IsMember({"uniform", "zipf"}));
  app.add_option("--zipf-s", out.zipf_s, "Zipf exponent s (P(rank k) ~ 1/k^s)")
      ->check(CLI::Range(0.0, 4.0))
      ->capture_default_str();
  app.add_option("--updates-per-sec", out.updates_per_sec,
                 "tunnel replacements per second by a control-plane thread during the ours+upd loop (0: no such loop)")
      ->check(CLI::Range(0.0, 1e6))
      ->capture_default_str();
  app.add_option("--latency-samples", out.latency_samples,
                 "update-to-forward latency probes per tunnel count (decap-41; 0: none)")
      ->check(CLI::Range(0u, 100000u))
      ->capture_default_str();
  app.add_flag("!--no-memory", out.memory, "skip the table memory measurement");
  app.add_option("--profile-ours", out.profile_ours,
                 "after the checks, run only ours (process_burst), this many loops per scenario, and print no "
                 "figures: a clean profile under `perf record`")
      ->check(CLI::Range(1u, 100000u));
  app.add_option("--workers", out.workers,
                 "also run ours on this many worker cores at once, for each count (e.g. 1,2,4,8; counts above "
                 "the CPUs this process may use are skipped): aggregate Mpps, after the single-core table")
      ->delimiter(',')
      ->check(CLI::Range(1u, 1024u));
  app.add_option("--profile-bare", out.profile_bare,
                 "the same for the bare loop (after ours when both are given): the floor's own profile")
      ->check(CLI::Range(1u, 100000u));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (!distribution_names.empty()) {
    out.distributions.clear();
    for (const std::string& name : distribution_names) out.distributions.push_back(*distribution_from_name(name));
  }
  if (!scenario_names.empty()) {
    out.scenarios.clear();
    for (const std::string& name : scenario_names) out.scenarios.push_back(*scenario_from_name(name));
  }
  return std::nullopt;
}

}  // namespace tsp::perf
