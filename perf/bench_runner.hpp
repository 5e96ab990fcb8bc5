// One tunnel count, all scenarios and distributions: build the world and the template rings,
// check the bare loop and the burst path against the pipeline, warm up, then time the loops
// of every scenario in rounds, each round in a different order of loops, and keep the medians.
// Then, for the same table, the update-to-forward latency and the table's memory.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "perf/bench_eal.hpp"
#include "perf/bench_options.hpp"
#include "perf/bench_packets.hpp"
#include "perf/bench_scaling.hpp"

namespace tsp::perf {

// TSC cycles per packet, medians over the rounds.
struct ScenarioFigures {
  Scenario scenario = Scenario::Decap41;
  Distribution distribution = Distribution::Uniform;
  uint32_t tunnels = 0;
  double ours = 0;      // process_burst (the worker's path), the copy-only loop's cost subtracted
  double bare = 0;      // the bare loop, the same subtracted
  double copy = 0;      // the copy-only loop (load, recycle, quiescent state)
  double ratio = 0;     // ours / bare, the median of the per-round ratios (NaN if bare never rose above copy)
  double single = 0;    // process_packet frame by frame (the reference path), the same subtracted
  double updating = 0;  // ours while a control-plane thread replaces tunnels (NaN if not run)
  double slowdown = 0;  // updating / ours, median of the per-round ratios
};

struct TunnelCountFigures {
  uint32_t tunnels = 0;
  std::vector<ScenarioFigures> rows;
  double updates_achieved = 0;        // replacements per second actually made during ours+upd
  std::vector<double> latency_micros;  // update-to-forward probes, sorted
  unsigned latency_lost = 0;
  // Bytes per tunnel the allocator handed out for the table (mallinfo2), and from the
  // structures' sizes (TunnelTable::memory_bytes); NaN when not measured (--no-memory).
  double memory_malloc = std::numeric_limits<double>::quiet_NaN();
  double memory_computed = std::numeric_limits<double>::quiet_NaN();
  std::vector<ScalingFigures> scaling;  // --workers
};

// The calling thread is a registered RCU reader, pinned; `control` are the CPUs for the
// control plane's threads, `workers` those for --workers (worker_cpus()). Throws
// std::runtime_error if a check fails or a timed loop did not forward every frame.
TunnelCountFigures measure_tunnel_count(const BenchOptions& opts, rte_mempool* pool, WorkingBurst& burst,
                                        uint32_t tunnels, const cpu_set_t& control,
                                        const std::vector<unsigned>& workers);

}  // namespace tsp::perf
