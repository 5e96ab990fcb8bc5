// dp_bench: cycles per packet of the dataplane pipeline on one pinned core, for decap and
// encap, protocol 41 and UDP, beside a bare loop doing only receive, look up, rewrite,
// transmit. See perf/README.md for how to run it and read it.
#include <rte_cycles.h>

#include <cstdio>
#include <exception>
#include <vector>

#include "perf/bench_eal.hpp"
#include "perf/bench_options.hpp"
#include "perf/bench_report.hpp"
#include "perf/bench_runner.hpp"
#include "shared/rcu.hpp"

int main(int argc, char** argv) {
  using namespace tsp::perf;
  BenchOptions opts;
  if (const auto exit_code = parse_bench_options(argc, argv, opts)) return *exit_code;
  try {
    const unsigned cpu = opts.cpu.value_or(first_allowed_cpu());
    BenchEal eal(cpu);
    tsp::RcuReaderThread rcu_reader;  // the table's readers must be registered, like a worker
    WorkingBurst burst(eal.pool());
    const uint64_t tsc_hz = rte_get_tsc_hz();
    print_header(opts, cpu, tsc_hz);
    std::vector<ScenarioFigures> all;
    for (uint32_t tunnels : opts.tunnels) {
      const std::vector<ScenarioFigures> rows = measure_tunnel_count(opts, eal.pool(), burst, tunnels);
      print_rows(opts, rows, tsc_hz);
      all.insert(all.end(), rows.begin(), rows.end());
    }
    print_key_ratios(opts, all);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dp_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
