// The control plane writing into the table while the worker runs (issue 6): a thread on the
// control CPUs replaces tunnels at a paced rate (each replacement is a new node swapped in and
// the old one retired through RCU), and a probe that measures the time from publishing a
// tunnel to the worker's first frame forwarded with it.
#pragma once

#include <sched.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "perf/bench_eal.hpp"
#include "perf/bench_packets.hpp"
#include "perf/bench_world.hpp"

namespace tsp::perf {

// Replaces random tunnels of the world (same content, so the same keys: the table swaps a new
// node in and retires the old one) at `per_second` while active; idle otherwise.
class TableUpdater {
 public:
  TableUpdater(BenchWorld& world, double per_second, const cpu_set_t& cpus, uint64_t seed);
  ~TableUpdater();  // stops and joins
  TableUpdater(const TableUpdater&) = delete;
  TableUpdater& operator=(const TableUpdater&) = delete;

  void set_active(bool on) noexcept;
  // Updates per second of active time, so far (0 before any).
  double achieved_rate() const noexcept;

 private:
  void run(uint64_t seed);

  BenchWorld& world_;
  const double per_second_;
  std::atomic<bool> active_{false}, stop_{false};
  std::atomic<uint64_t> updates_{0}, active_ns_{0};
  std::thread thread_;
};

struct UpdateLatency {
  std::vector<double> micros;  // one per probe that was forwarded
  unsigned lost = 0;           // probes never forwarded within the timeout
};

// `samples` times: a writer thread on `cpus` notes the TSC and publishes a new protocol-41
// tunnel in the world's spare id; the calling thread, pinned and an online RCU reader, runs
// bursts of `ring` with one frame of the new tunnel in each and notes the TSC when the first
// one is forwarded. The writer then removes the tunnel. Throws std::runtime_error if a ring
// frame is not forwarded.
UpdateLatency measure_update_latency(BenchWorld& world, const TemplateRing& ring, Scenario s, WorkingBurst& burst,
                                     const cpu_set_t& cpus, unsigned samples, uint32_t payload);

}  // namespace tsp::perf
