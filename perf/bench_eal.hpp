// DPDK for the benchmark: EAL without hugepages, PCI or shared files, its main lcore (the
// thread that calls start_bench_eal) pinned to one CPU, and a small mbuf pool.
#pragma once

#include <rte_mbuf.h>
#include <sched.h>

#include <cstdint>

namespace tsp::perf {

inline constexpr unsigned kBurst = 32;  // frames per burst, as a poll loop receives them

// The first CPU this process may run on.
unsigned first_allowed_cpu();

// The CPUs the process could use at start-up other than `bench_cpu`: where the control plane
// (updater, the table's reclaimer) runs. `bench_cpu` itself when there is no other. Call it
// before BenchEal pins the thread.
cpu_set_t control_cpus(unsigned bench_cpu);

// Moves the calling thread to `cpus` for the scope's lifetime, so that threads it starts
// (std::thread inherits affinity) land there and not on the pinned worker core.
class AffinityScope {
 public:
  explicit AffinityScope(const cpu_set_t& cpus);
  ~AffinityScope();
  AffinityScope(const AffinityScope&) = delete;
  AffinityScope& operator=(const AffinityScope&) = delete;

 private:
  cpu_set_t saved_;
  bool restore_ = false;
};

// EAL and the pool for the process's lifetime: at most one, ever (EAL cannot restart).
class BenchEal {
 public:
  // Starts EAL pinned to `cpu` and creates the pool. Throws std::runtime_error with DPDK's
  // reason, or when `cpu` is not one this process may use.
  explicit BenchEal(unsigned cpu);
  // Frees the pool and releases EAL's memory: nothing from the pool may be in use any more.
  ~BenchEal();
  BenchEal(const BenchEal&) = delete;
  BenchEal& operator=(const BenchEal&) = delete;

  rte_mempool* pool() const noexcept { return pool_; }

 private:
  rte_mempool* pool_ = nullptr;
};

// The burst of mbufs every timed loop copies its frames into, allocated once.
class WorkingBurst {
 public:
  explicit WorkingBurst(rte_mempool* pool);  // throws std::runtime_error if the pool is short
  ~WorkingBurst();
  WorkingBurst(const WorkingBurst&) = delete;
  WorkingBurst& operator=(const WorkingBurst&) = delete;

  rte_mbuf* m[kBurst] = {};
};

}  // namespace tsp::perf
