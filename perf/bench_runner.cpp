#include "perf/bench_runner.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>

#include "perf/bare_loop.hpp"
#include "perf/bench_check.hpp"
#include "perf/bench_loops.hpp"
#include "perf/bench_world.hpp"

namespace tsp::perf {

namespace {

constexpr uint32_t kCheckedTemplates = 512;

enum class Variant : unsigned { CopyOnly = 0, Bare = 1, Ours = 2 };
constexpr unsigned kVariants = 3;

double median(std::vector<double> v) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(v.begin(), v.end());
  const size_t mid = v.size() / 2;
  return v.size() % 2 == 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

// Per-round samples of one scenario, in cycles per packet.
struct Samples {
  std::vector<double> copy, ours_net, bare_net, ratio;
};

class ScenarioRunner {
 public:
  ScenarioRunner(Scenario s, BenchWorld& world, BareLoop& bare, WorkingBurst& burst, const BenchOptions& opts)
      : s_(s),
        world_(world),
        bare_(bare),
        burst_(burst),
        packets_(opts.packets),
        // A different stream per scenario, all from the one seed.
        ring_(build_templates(s, world, templates_for(opts, world.tunnel_count()), opts.payload,
                              opts.seed * 31 + static_cast<unsigned>(s) + 1)) {}

  void check_and_warm_up() {
    check_bare_matches_ours(world_, bare_, s_, ring_, burst_, kCheckedTemplates);
    // One pass over every template each: caches, branch predictors, last-seen stamps.
    time_variant(Variant::Bare, ring_.size());
    time_variant(Variant::Ours, ring_.size());
  }

  // One round: the three loops, starting with `first` and going round.
  void round(unsigned first) {
    double per_packet[kVariants] = {};
    for (unsigned k = 0; k < kVariants; ++k) {
      const auto v = static_cast<Variant>((first + k) % kVariants);
      per_packet[static_cast<unsigned>(v)] =
          static_cast<double>(time_variant(v, packets_)) / static_cast<double>(packets_);
    }
    const double copy = per_packet[static_cast<unsigned>(Variant::CopyOnly)];
    const double ours = per_packet[static_cast<unsigned>(Variant::Ours)] - copy;
    const double bare = per_packet[static_cast<unsigned>(Variant::Bare)] - copy;
    samples_.copy.push_back(copy);
    samples_.ours_net.push_back(ours);
    samples_.bare_net.push_back(bare);
    if (bare > 0) samples_.ratio.push_back(ours / bare);
  }

  ScenarioFigures figures(uint32_t tunnels) const {
    return {s_,
            tunnels,
            median(samples_.ours_net),
            median(samples_.bare_net),
            median(samples_.copy),
            median(samples_.ratio)};
  }

 private:
  uint64_t time_variant(Variant v, uint64_t packets) {
    switch (v) {
      case Variant::CopyOnly: return time_copy_only(ring_, burst_, packets);
      case Variant::Bare: {
        uint64_t missed = 0;
        const uint64_t cycles = time_bare(bare_, s_, ring_, burst_, packets, missed);
        if (missed != 0) fail("the bare loop found no tunnel for " + std::to_string(missed) + " frames");
        return cycles;
      }
      case Variant::Ours: {
        OursTally tally;
        const uint64_t cycles = time_ours(world_.ctx, s_, ring_, burst_, packets, tally);
        if (tally.other != 0) {
          fail("the pipeline did not forward " + std::to_string(tally.other) +
               " frames (first: " + describe_verdict(tally.first_other) + ")");
        }
        if (tally.extra_packets != 0) fail("the pipeline built ARP/NS requests");
        return cycles;
      }
    }
    return 0;
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error(std::string(scenario_name(s_)) + ", " + std::to_string(world_.tunnel_count()) +
                             " tunnels: " + what);
  }

  Scenario s_;
  BenchWorld& world_;
  BareLoop& bare_;
  WorkingBurst& burst_;
  uint64_t packets_;
  TemplateRing ring_;
  Samples samples_;
};

}  // namespace

std::vector<ScenarioFigures> measure_tunnel_count(const BenchOptions& opts, rte_mempool* pool, WorkingBurst& burst,
                                                  uint32_t tunnels) {
  std::fprintf(stderr, "dp_bench: %u tunnels: building the table and %u templates per scenario\n", tunnels,
               templates_for(opts, tunnels));
  BenchWorld world(tunnels, pool, opts.seed);
  BareLoop bare(world.table, world.macs);
  std::vector<ScenarioRunner> runners;
  runners.reserve(opts.scenarios.size());
  for (Scenario s : opts.scenarios) runners.emplace_back(s, world, bare, burst, opts);
  for (ScenarioRunner& r : runners) r.check_and_warm_up();

  std::fprintf(stderr, "dp_bench: %u tunnels: checked, %u rounds of %llu packets per loop\n", tunnels, opts.rounds,
               static_cast<unsigned long long>(opts.packets));
  for (unsigned round = 0; round < opts.rounds; ++round) {
    for (ScenarioRunner& r : runners) r.round(round % kVariants);
  }

  std::vector<ScenarioFigures> out;
  for (const ScenarioRunner& r : runners) out.push_back(r.figures(tunnels));
  return out;
}

}  // namespace tsp::perf
