#include "perf/bench_report.hpp"

#include <cmath>
#include <cstdio>
#include <string>

namespace tsp::perf {

namespace {

// Frames per second of one core spending `cycles` TSC cycles per packet, in millions.
double mpps(double cycles, uint64_t tsc_hz) {
  return cycles > 0 ? static_cast<double>(tsc_hz) / cycles / 1e6 : std::nan("");
}

std::string fixed(double v, int decimals) {
  if (std::isnan(v)) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

}  // namespace

void print_header(const BenchOptions& opts, unsigned cpu, uint64_t tsc_hz) {
  std::printf(
      "dp_bench: one core (cpu %u) pinned, TSC %.0f MHz, no NIC; inner IPv6 packet %u bytes (UDP payload "
      "%u); %llu packets per loop, %u rounds interleaving copy-only, bare and ours; medians, copy-only cost "
      "subtracted\n",
      cpu, static_cast<double>(tsc_hz) / 1e6, opts.payload + 48, opts.payload,
      static_cast<unsigned long long>(opts.packets), opts.rounds);
  std::printf("%-10s %8s %13s %13s %6s %11s %13s %10s\n", "scenario", "tunnels", "ours_cyc/pkt", "bare_cyc/pkt",
              "ratio", "Mpps(ours)", "copy_cyc/pkt", "templates");
  std::fflush(stdout);
}

void print_rows(const BenchOptions& opts, const std::vector<ScenarioFigures>& rows, uint64_t tsc_hz) {
  for (const ScenarioFigures& f : rows) {
    std::printf("%-10s %8u %13s %13s %6s %11s %13s %10u\n", std::string(scenario_name(f.scenario)).c_str(), f.tunnels,
                fixed(f.ours, 1).c_str(), fixed(f.bare, 1).c_str(), fixed(f.ratio, 2).c_str(),
                fixed(mpps(f.ours, tsc_hz), 2).c_str(), fixed(f.copy, 1).c_str(), templates_for(opts, f.tunnels));
  }
  std::fflush(stdout);
}

void print_key_ratios(const BenchOptions& opts, const std::vector<ScenarioFigures>& all) {
  std::string line = "key ratios (ours/bare):";
  double log_sum = 0;
  unsigned valid = 0;
  for (Scenario s : opts.scenarios) {
    line += " ";
    line += scenario_name(s);
    line += " ";
    bool first = true;
    for (uint32_t tunnels : opts.tunnels) {
      for (const ScenarioFigures& f : all) {
        if (f.scenario != s || f.tunnels != tunnels) continue;
        if (!first) line += '/';
        line += fixed(f.ratio, 2);
        first = false;
        if (f.ratio > 0) {
          log_sum += std::log(f.ratio);
          ++valid;
        }
      }
    }
  }
  line += " (tunnels ";
  for (size_t i = 0; i < opts.tunnels.size(); ++i) {
    if (i > 0) line += '/';
    line += std::to_string(opts.tunnels[i]);
  }
  line += "); geomean " + fixed(valid ? std::exp(log_sum / valid) : std::nan(""), 2);
  std::printf("%s\n", line.c_str());
}

}  // namespace tsp::perf
