// One tunnel count, all scenarios: build the world and the template rings, check the bare
// loop against the pipeline, warm up, then time the three loops of every scenario in rounds,
// each round in a different order of loops, and keep the medians.
#pragma once

#include <cstdint>
#include <vector>

#include "perf/bench_eal.hpp"
#include "perf/bench_options.hpp"
#include "perf/bench_packets.hpp"

namespace tsp::perf {

// TSC cycles per packet, medians over the rounds.
struct ScenarioFigures {
  Scenario scenario = Scenario::Decap41;
  uint32_t tunnels = 0;
  double ours = 0;   // process_packet, the copy-only loop's cost subtracted
  double bare = 0;   // the bare loop, the same subtracted
  double copy = 0;   // the copy-only loop (load, recycle, quiescent state)
  double ratio = 0;  // ours / bare, the median of the per-round ratios (NaN if bare never rose above copy)
};

// The calling thread is a registered RCU reader. Throws std::runtime_error if a check fails
// or a timed loop did not forward every frame.
std::vector<ScenarioFigures> measure_tunnel_count(const BenchOptions& opts, rte_mempool* pool, WorkingBurst& burst,
                                                  uint32_t tunnels);

}  // namespace tsp::perf
