#include "perf/bench_scaling.hpp"

#include <pthread.h>
#include <rte_cycles.h>
#include <sched.h>

#include <algorithm>
#include <barrier>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "dataplane/worker_counters.hpp"
#include "perf/bench_eal.hpp"
#include "perf/bench_loops.hpp"
#include "shared/rcu.hpp"

namespace tsp::perf {

namespace {

void pin_to(unsigned cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0) {
    throw std::runtime_error("cannot pin a worker to CPU " + std::to_string(cpu));
  }
}

// One round with `workers` threads: each one's TSC cycles for `packets` frames.
std::vector<uint64_t> run_round(const BenchWorld& world, const TemplateRing& ring, Scenario s, rte_mempool* pool,
                                const std::vector<unsigned>& cpus, unsigned workers, uint64_t packets) {
  std::vector<uint64_t> cycles(workers, 0);
  std::barrier start(workers);
  std::mutex error_mutex;
  std::exception_ptr error;
  auto worker = [&](unsigned k) {
    bool started = false;
    try {
      pin_to(cpus[k]);
      RcuReaderThread reader;
      WorkingBurst burst(pool);
      dp::WorkerCounters counters(world.tunnel_count() + 1);
      dp::PipelineContext ctx = world.ctx;  // shares cfg, table and neighbors
      ctx.counters = &counters;
      // Frames of its own, as a NIC queue's are: read from one shared ring, the same lines
      // crossed between the cores' caches on every pass and doubled the cost of the copy
      // alone (11 -> 23 cycles per frame with two workers on this VM).
      const TemplateRing own_ring = ring;
      OursTally warm;
      time_ours(ctx, s, own_ring, burst, own_ring.size(), warm);  // caches, predictors
      started = true;
      start.arrive_and_wait();
      OursTally tally;
      cycles[k] = time_ours(ctx, s, own_ring, burst, packets, tally);
      if (tally.transmitted != packets) {
        throw std::runtime_error("worker " + std::to_string(k) + ": " + std::to_string(tally.other) +
                                 " frames not forwarded, the first: " + describe_verdict(tally.first_other));
      }
    } catch (...) {
      if (!started) start.arrive_and_drop();  // the others must not wait for this one
      const std::lock_guard lock(error_mutex);
      if (!error) error = std::current_exception();
    }
  };
  {
    RcuOfflineScope offline;  // the caller waits; it must not hold up the table's grace periods
    std::vector<std::thread> threads;
    threads.reserve(workers);
    for (unsigned k = 0; k < workers; ++k) threads.emplace_back(worker, k);
    for (std::thread& t : threads) t.join();
  }
  if (error) std::rethrow_exception(error);
  return cycles;
}

}  // namespace

std::vector<unsigned> worker_cpus(unsigned first) {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<unsigned> out{first};
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return out;
  for (unsigned cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (cpu != first && CPU_ISSET(cpu, &set)) out.push_back(cpu);
  }
  return out;
}

std::vector<ScalingFigures> measure_scaling(const BenchWorld& world, const TemplateRing& ring, Scenario s,
                                            Distribution d, rte_mempool* pool,
                                            const std::vector<unsigned>& worker_counts,
                                            const std::vector<unsigned>& cpus, uint64_t packets, unsigned rounds) {
  const double tsc_hz = static_cast<double>(rte_get_tsc_hz());
  std::vector<ScalingFigures> out;
  for (unsigned workers : worker_counts) {
    if (workers == 0 || workers > cpus.size()) continue;
    std::vector<std::pair<double, double>> samples;  // (Mpps, cycles per packet) per round
    for (unsigned r = 0; r < rounds; ++r) {
      const std::vector<uint64_t> cycles = run_round(world, ring, s, pool, cpus, workers, packets);
      const uint64_t slowest = *std::max_element(cycles.begin(), cycles.end());
      uint64_t sum = 0;
      for (uint64_t c : cycles) sum += c;
      const double frames = static_cast<double>(packets) * workers;
      samples.emplace_back(frames / (static_cast<double>(slowest) / tsc_hz) / 1e6, static_cast<double>(sum) / frames);
    }
    std::sort(samples.begin(), samples.end());
    const auto& mid = samples[samples.size() / 2];
    out.push_back(ScalingFigures{s, d, world.tunnel_count(), workers, mid.first, mid.second});
  }
  return out;
}

}  // namespace tsp::perf
