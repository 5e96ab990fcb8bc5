// dp_bench: cycles per packet of the dataplane pipeline on one pinned core, for decap and
// encap, protocol 41 and UDP, uniform and Zipf traffic, beside a bare loop doing only receive,
// look up, rewrite, transmit; the same while the control plane updates the table; the time
// from an update to the first packet forwarded with it; the table's memory per tunnel. See perf/README.md for how to run it and read it.
#include <rte_cycles.h>

#include <cstdio>
#include <exception>
#include <vector>

#include "perf/bench_eal.hpp"
#include "perf/bench_options.hpp"
#include "perf/bench_report.hpp"
#include "perf/bench_runner.hpp"
#include "perf/bench_scaling.hpp"
#include "shared/rcu.hpp"

int main(int argc, char** argv) {
  using namespace tsp::perf;
  BenchOptions opts;
  if (const auto exit_code = parse_bench_options(argc, argv, opts)) return *exit_code;
  try {
    const unsigned cpu = opts.cpu.value_or(first_allowed_cpu());
    const cpu_set_t control = control_cpus(cpu);  // before EAL pins this thread
    const std::vector<unsigned> workers = worker_cpus(cpu);
    BenchEal eal(cpu);
    tsp::RcuReaderThread rcu_reader;  // the table's readers must be registered, like a worker
    WorkingBurst burst(eal.pool());
    const uint64_t tsc_hz = rte_get_tsc_hz();
    print_header(opts, cpu, tsc_hz);
    std::vector<TunnelCountFigures> all;
    for (uint32_t tunnels : opts.tunnels) {
      all.push_back(measure_tunnel_count(opts, eal.pool(), burst, tunnels, control, workers));
      print_rows(opts, all.back(), tsc_hz);
    }
    print_tunnel_count_notes(all);
    print_scaling(all);
    print_key_ratios(opts, all);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dp_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
