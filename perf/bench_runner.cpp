#include "perf/bench_runner.hpp"

#include <malloc.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "perf/bare_loop.hpp"
#include "perf/bench_check.hpp"
#include "perf/bench_loops.hpp"
#include "perf/bench_updates.hpp"
#include "perf/bench_world.hpp"

namespace tsp::perf {

namespace {

constexpr uint32_t kCheckedTemplates = 512;

enum class Variant : unsigned { CopyOnly = 0, Bare = 1, Ours = 2, Single = 3, Updating = 4 };
constexpr unsigned kMaxVariants = 5;

double median(std::vector<double> v) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(v.begin(), v.end());
  const size_t mid = v.size() / 2;
  return v.size() % 2 == 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

// Per-round samples of one scenario, in cycles per packet.
struct Samples {
  std::vector<double> copy, ours_net, bare_net, single_net, updating_net, ratio, slowdown;
};

class ScenarioRunner {
 public:
  ScenarioRunner(Scenario s, Distribution d, BenchWorld& world, BareLoop& bare, WorkingBurst& burst,
                 rte_mempool* pool, TableUpdater* updater, const BenchOptions& opts)
      : s_(s),
        d_(d),
        world_(world),
        bare_(bare),
        burst_(burst),
        pool_(pool),
        updater_(updater),
        packets_(opts.packets),
        // A different stream per scenario, all from the one seed.
        ring_(build_templates(s, world, d, opts.zipf_s, templates_for(opts, world.tunnel_count()), opts.payload,
                              opts.seed * 31 + static_cast<unsigned>(s) + 1)) {}

  void check_and_warm_up() {
    check_bare_matches_ours(world_, bare_, s_, ring_, burst_, kCheckedTemplates);
    check_burst_matches_single(world_, s_, ring_, burst_, pool_, kCheckedTemplates);
    // One pass over every template each: caches, branch predictors, last-seen stamps.
    time_variant(Variant::Bare, ring_.size());
    time_variant(Variant::Ours, ring_.size());
    time_variant(Variant::Single, ring_.size());
  }

  // Only one variant's loop, for a profiler: nothing else runs in between.
  void profile(Variant v, unsigned loops) {
    for (unsigned k = 0; k < loops; ++k) time_variant(v, packets_);
  }

  // One round: the loops, starting with the `first`-th and going round.
  void round(unsigned first) {
    const unsigned variants = updater_ ? 5 : 4;
    double per_packet[kMaxVariants] = {};
    for (unsigned k = 0; k < variants; ++k) {
      const auto v = static_cast<Variant>((first + k) % variants);
      per_packet[static_cast<unsigned>(v)] =
          static_cast<double>(time_variant(v, packets_)) / static_cast<double>(packets_);
    }
    const double copy = per_packet[static_cast<unsigned>(Variant::CopyOnly)];
    const double ours = per_packet[static_cast<unsigned>(Variant::Ours)] - copy;
    const double bare = per_packet[static_cast<unsigned>(Variant::Bare)] - copy;
    samples_.copy.push_back(copy);
    samples_.ours_net.push_back(ours);
    samples_.bare_net.push_back(bare);
    samples_.single_net.push_back(per_packet[static_cast<unsigned>(Variant::Single)] - copy);
    if (bare > 0) samples_.ratio.push_back(ours / bare);
    if (updater_) {
      const double updating = per_packet[static_cast<unsigned>(Variant::Updating)] - copy;
      samples_.updating_net.push_back(updating);
      if (ours > 0) samples_.slowdown.push_back(updating / ours);
    }
  }

  ScenarioFigures figures(uint32_t tunnels) const {
    ScenarioFigures f;
    f.scenario = s_;
    f.distribution = d_;
    f.tunnels = tunnels;
    f.ours = median(samples_.ours_net);
    f.bare = median(samples_.bare_net);
    f.copy = median(samples_.copy);
    f.ratio = median(samples_.ratio);
    f.single = median(samples_.single_net);
    f.updating = median(samples_.updating_net);
    f.slowdown = median(samples_.slowdown);
    return f;
  }

  Scenario scenario() const { return s_; }
  Distribution distribution() const { return d_; }
  const TemplateRing& ring() const { return ring_; }

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
      case Variant::Ours:
      case Variant::Single:
      case Variant::Updating: {
        OursTally tally;
        if (v == Variant::Updating) updater_->set_active(true);
        const uint64_t cycles = v == Variant::Single ? time_single(world_.ctx, s_, ring_, burst_, packets, tally)
                                                     : time_ours(world_.ctx, s_, ring_, burst_, packets, tally);
        if (v == Variant::Updating) updater_->set_active(false);
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
    throw std::runtime_error(std::string(scenario_name(s_)) + " (" + std::string(distribution_name(d_)) + "), " +
                             std::to_string(world_.tunnel_count()) + " tunnels: " + what);
  }

  Scenario s_;
  Distribution d_;
  BenchWorld& world_;
  BareLoop& bare_;
  WorkingBurst& burst_;
  rte_mempool* pool_;
  TableUpdater* updater_;
  uint64_t packets_;
  TemplateRing ring_;
  Samples samples_;
};

size_t heap_in_use() {
  const struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;  // small chunks + mmapped ones (the big arrays)
}

// A second table holding the world's tunnels, measured two ways. Built on the control CPUs.
void measure_memory(const BenchWorld& world, TunnelCountFigures& out) {
  const size_t before = heap_in_use();
  auto table = std::make_unique<TunnelTable>(world.tunnel_count());
  for (uint32_t id = 0; id < world.tunnel_count(); ++id) table->upsert(world.tunnel(id));
  const size_t after = heap_in_use();
  out.memory_malloc = static_cast<double>(after - before) / world.tunnel_count();
  out.memory_computed = static_cast<double>(table->memory_bytes()) / world.tunnel_count();
}

}  // namespace

TunnelCountFigures measure_tunnel_count(const BenchOptions& opts, rte_mempool* pool, WorkingBurst& burst,
                                        uint32_t tunnels, const cpu_set_t& control,
                                        const std::vector<unsigned>& workers) {
  std::fprintf(stderr, "dp_bench: %u tunnels: building the table and %u templates per scenario\n", tunnels,
               templates_for(opts, tunnels));
  TunnelCountFigures out;
  out.tunnels = tunnels;
  std::optional<BenchWorld> world_slot;
  std::unique_ptr<TableUpdater> updater;
  {
    AffinityScope on_control(control);  // the table's reclaimer thread starts on the control CPUs
    world_slot.emplace(tunnels, pool, opts.seed);
    if (opts.memory) measure_memory(*world_slot, out);
  }
  BenchWorld& world = *world_slot;
  if (opts.updates_per_sec > 0) updater = std::make_unique<TableUpdater>(world, opts.updates_per_sec, control, opts.seed);
  check_bulk_lookups(world, 65536);
  BareLoop bare(world.table, world.macs);
  std::vector<ScenarioRunner> runners;
  runners.reserve(opts.scenarios.size() * opts.distributions.size());
  for (Distribution d : opts.distributions) {
    for (Scenario s : opts.scenarios) runners.emplace_back(s, d, world, bare, burst, pool, updater.get(), opts);
  }
  for (ScenarioRunner& r : runners) r.check_and_warm_up();
  if (opts.profile_ours > 0 || opts.profile_bare > 0) {
    std::fprintf(stderr, "dp_bench: %u tunnels: profiling, %u loops of ours and %u of bare per scenario\n", tunnels,
                 opts.profile_ours, opts.profile_bare);
    for (ScenarioRunner& r : runners) {
      r.profile(Variant::Ours, opts.profile_ours);
      r.profile(Variant::Bare, opts.profile_bare);
    }
    AffinityScope on_control(control);
    updater.reset();
    world_slot.reset();
    return out;
  }

  std::fprintf(stderr, "dp_bench: %u tunnels: checked, %u rounds of %llu packets per loop\n", tunnels, opts.rounds,
               static_cast<unsigned long long>(opts.packets));
  for (unsigned round = 0; round < opts.rounds; ++round) {
    for (ScenarioRunner& r : runners) r.round(round);
  }
  for (const ScenarioRunner& r : runners) out.rows.push_back(r.figures(tunnels));
  if (updater) out.updates_achieved = updater->achieved_rate();
  updater.reset();

  if (!opts.workers.empty()) {
    std::fprintf(stderr, "dp_bench: %u tunnels: scaling over up to %zu worker cores\n", tunnels, workers.size());
    for (const ScenarioRunner& r : runners) {
      for (const ScalingFigures& f : measure_scaling(world, r.ring(), r.scenario(), r.distribution(), pool,
                                                     opts.workers, workers, opts.packets, opts.rounds)) {
        out.scaling.push_back(f);
      }
    }
  }

  if (opts.latency_samples > 0) {
    for (const ScenarioRunner& r : runners) {
      if (r.scenario() != Scenario::Decap41 || r.distribution() != opts.distributions.front()) continue;
      std::fprintf(stderr, "dp_bench: %u tunnels: update-to-forward latency, %u probes\n", tunnels,
                   opts.latency_samples);
      UpdateLatency lat =
          measure_update_latency(world, r.ring(), Scenario::Decap41, burst, control, opts.latency_samples, opts.payload);
      std::sort(lat.micros.begin(), lat.micros.end());
      out.latency_micros = std::move(lat.micros);
      out.latency_lost = lat.lost;
    }
  }
  {
    AffinityScope on_control(control);  // the world's teardown waits for its reclaimer
    world_slot.reset();
  }
  return out;
}

}  // namespace tsp::perf
