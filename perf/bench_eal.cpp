#include "perf/bench_eal.hpp"

#include <rte_eal.h>
#include <rte_errno.h>
#include <sched.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace tsp::perf {

namespace {
// The working burst plus what the pipeline might build (ARP/NS requests, never with learned
// gateways), with room to spare; a power of two minus one suits the mempool's ring.
constexpr unsigned kPoolSize = 511;
}  // namespace

unsigned first_allowed_cpu() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (unsigned cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &set)) return cpu;
    }
  }
  return 0;
}

cpu_set_t control_cpus(unsigned bench_cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) CPU_ZERO(&set);
  if (bench_cpu < CPU_SETSIZE) CPU_CLR(bench_cpu, &set);
  if (CPU_COUNT(&set) == 0 && bench_cpu < CPU_SETSIZE) CPU_SET(bench_cpu, &set);
  return set;
}

AffinityScope::AffinityScope(const cpu_set_t& cpus) {
  CPU_ZERO(&saved_);
  if (sched_getaffinity(0, sizeof(saved_), &saved_) == 0) {
    restore_ = sched_setaffinity(0, sizeof(cpus), &cpus) == 0;
  }
}

AffinityScope::~AffinityScope() {
  if (restore_) sched_setaffinity(0, sizeof(saved_), &saved_);
}

BenchEal::BenchEal(unsigned cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (cpu >= CPU_SETSIZE || sched_getaffinity(0, sizeof(set), &set) != 0 || !CPU_ISSET(cpu, &set)) {
    throw std::runtime_error("CPU " + std::to_string(cpu) + " is not one this process may run on");
  }
  // No --in-memory: DPDK 22.11 refuses it together with --no-huge; --no-shconf keeps files away.
  static std::vector<std::string> args = {"dp_bench",
                                          "--no-huge",
                                          "-m",
                                          "128",
                                          "--no-pci",
                                          "--no-shconf",
                                          "--no-telemetry",
                                          "--log-level=lib.*:error",
                                          "--lcores=0@" + std::to_string(cpu)};
  static std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
    throw std::runtime_error(std::string("rte_eal_init: ") + rte_strerror(rte_errno));
  }
  pool_ = rte_pktmbuf_pool_create("dp_bench_pool", kPoolSize, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (pool_ == nullptr) {
    const std::string why = rte_strerror(rte_errno);
    rte_eal_cleanup();
    throw std::runtime_error("rte_pktmbuf_pool_create: " + why);
  }
}

BenchEal::~BenchEal() {
  rte_mempool_free(pool_);
  rte_eal_cleanup();
}

WorkingBurst::WorkingBurst(rte_mempool* pool) {
  if (rte_pktmbuf_alloc_bulk(pool, m, kBurst) != 0) throw std::runtime_error("mbuf pool too small for a burst");
}

WorkingBurst::~WorkingBurst() { rte_pktmbuf_free_bulk(m, kBurst); }

}  // namespace tsp::perf
