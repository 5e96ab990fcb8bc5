// Multi-core scaling of the worker's path: W threads, each pinned to a CPU of its own, each a
// registered RCU reader with its own PipelineContext, counters and mbufs, all sharing one
// tunnel table, configuration and neighbor table as tspbrokerd's workers do. Each runs the
// same loop as dp_bench's "ours" (load templates, process_burst, quiescent state) over its
// own copy of the scenario's template ring, starting together at a barrier; the figure is all
// their frames over the slowest one's time. Copy cost included (it is per worker, so it
// scales too).
#pragma once

#include <cstdint>
#include <vector>

#include "perf/bench_packets.hpp"
#include "perf/bench_world.hpp"
#include "perf/scenario.hpp"
#include "perf/tunnel_picker.hpp"

namespace tsp::perf {

struct ScalingFigures {
  Scenario scenario = Scenario::Decap41;
  Distribution distribution = Distribution::Uniform;
  uint32_t tunnels = 0;
  unsigned workers = 0;
  double mpps = 0;              // all workers' frames per second (millions), median over rounds
  double cycles_per_packet = 0;  // TSC cycles per frame of one worker, mean over workers, same round
};

// The CPUs this process may use, `first` first, then the others in order.
std::vector<unsigned> worker_cpus(unsigned first);

// One figure per entry of `worker_counts` that `cpus` can hold (larger counts are skipped).
// `packets` frames per worker per round. The caller may be an online RCU reader: it goes
// offline while the workers run. Throws std::runtime_error if a worker did not forward every
// frame or the pool is short of mbufs.
std::vector<ScalingFigures> measure_scaling(const BenchWorld& world, const TemplateRing& ring, Scenario s,
                                            Distribution d, rte_mempool* pool,
                                            const std::vector<unsigned>& worker_counts,
                                            const std::vector<unsigned>& cpus, uint64_t packets, unsigned rounds);

}  // namespace tsp::perf
