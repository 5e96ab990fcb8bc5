// What dp_bench prints on stdout: a header saying what was measured where, one table row per
// scenario, distribution and tunnel count, a line per tunnel count with the table's memory and
// the update-to-forward latency, and a last line with the ratios that matter.
#pragma once

#include <cstdint>
#include <vector>

#include "perf/bench_options.hpp"
#include "perf/bench_runner.hpp"

namespace tsp::perf {

void print_header(const BenchOptions& opts, unsigned cpu, uint64_t tsc_hz);
void print_rows(const BenchOptions& opts, const TunnelCountFigures& figures, uint64_t tsc_hz);
// After the table: memory and latency, one line per tunnel count.
void print_tunnel_count_notes(const std::vector<TunnelCountFigures>& all);
// --workers: one row per scenario, distribution, tunnel count and worker count (first column
// "scaling", so that dp_bench.sh's parser of the main table skips them), then a line with each
// case's speed-up over one worker. Nothing when no scaling was measured.
void print_scaling(const std::vector<TunnelCountFigures>& all);
// "key ratios (ours/bare, uniform): decap-41 2.10/2.45 ... (tunnels 1000/1000000); geomean 2.31; ..."
void print_key_ratios(const BenchOptions& opts, const std::vector<TunnelCountFigures>& all);

}  // namespace tsp::perf
