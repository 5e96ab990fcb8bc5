#include "perf/bench_report.hpp"

#include <algorithm>
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

// The q-quantile of sorted values (nearest rank).
double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return std::nan("");
  const auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

}  // namespace

void print_header(const BenchOptions& opts, unsigned cpu, uint64_t tsc_hz) {
  std::printf(
      "dp_bench: one core (cpu %u) pinned, TSC %.0f MHz, no NIC; inner IPv6 packet %u bytes (UDP payload "
      "%u); %llu packets per loop, %u rounds interleaving the loops; medians, copy-only cost subtracted; "
      "ours = process_burst, single = process_packet per frame, bare = the floor, upd = ours while %.0f "
      "tunnel replacements/s run on the control CPUs, zipf s=%.2f\n",
      cpu, static_cast<double>(tsc_hz) / 1e6, opts.payload + 48, opts.payload,
      static_cast<unsigned long long>(opts.packets), opts.rounds, opts.updates_per_sec, opts.zipf_s);
  std::printf("%-10s %-8s %8s %9s %9s %6s %10s %9s %9s %10s %9s %9s\n", "scenario", "dist", "tunnels", "ours_cyc",
              "bare_cyc", "ratio", "Mpps(ours)", "single", "upd_cyc", "upd/ours", "copy_cyc", "templates");
  std::fflush(stdout);
}

void print_rows(const BenchOptions& opts, const TunnelCountFigures& figures, uint64_t tsc_hz) {
  for (const ScenarioFigures& f : figures.rows) {
    std::printf("%-10s %-8s %8u %9s %9s %6s %10s %9s %9s %10s %9s %9u\n",
                std::string(scenario_name(f.scenario)).c_str(), std::string(distribution_name(f.distribution)).c_str(),
                f.tunnels, fixed(f.ours, 1).c_str(), fixed(f.bare, 1).c_str(), fixed(f.ratio, 2).c_str(),
                fixed(mpps(f.ours, tsc_hz), 2).c_str(), fixed(f.single, 1).c_str(), fixed(f.updating, 1).c_str(),
                fixed(f.slowdown, 3).c_str(), fixed(f.copy, 1).c_str(), templates_for(opts, f.tunnels));
  }
  std::fflush(stdout);
}

void print_tunnel_count_notes(const std::vector<TunnelCountFigures>& all) {
  for (const TunnelCountFigures& t : all) {
    std::printf("tunnels %u: table memory %s B/tunnel (allocator) %s B/tunnel (structure sizes); updates %s/s "
                "achieved; update->first forwarded packet p50 %s us p99 %s us max %s us (%zu probes, %u lost)\n",
                t.tunnels, fixed(t.memory_malloc, 1).c_str(), fixed(t.memory_computed, 1).c_str(),
                fixed(t.updates_achieved, 0).c_str(), fixed(quantile(t.latency_micros, 0.5), 2).c_str(),
                fixed(quantile(t.latency_micros, 0.99), 2).c_str(), fixed(quantile(t.latency_micros, 1.0), 2).c_str(),
                t.latency_micros.size(), t.latency_lost);
  }
  std::fflush(stdout);
}

void print_scaling(const std::vector<TunnelCountFigures>& all) {
  bool any = false;
  for (const TunnelCountFigures& t : all) any = any || !t.scaling.empty();
  if (!any) return;
  std::printf("%-8s %-10s %-8s %8s %8s %9s %12s %8s %8s\n", "scaling", "scenario", "dist", "tunnels", "workers",
              "Mpps", "Mpps/worker", "cyc/pkt", "speedup");
  std::string line = "scaling (aggregate Mpps over one worker's, by worker count):";
  for (const TunnelCountFigures& t : all) {
    double one = std::nan("");
    for (size_t i = 0; i < t.scaling.size(); ++i) {
      const ScalingFigures& f = t.scaling[i];
      const bool new_case = i == 0 || f.scenario != t.scaling[i - 1].scenario ||
                            f.distribution != t.scaling[i - 1].distribution;
      if (new_case) {
        one = f.workers == 1 ? f.mpps : std::nan("");
        line += std::string(" ") + std::string(scenario_name(f.scenario)) + "@" + std::to_string(f.tunnels) + "/" +
                std::string(distribution_name(f.distribution)) + " ";
      } else {
        line += "/";
      }
      const double speedup = f.mpps / one;
      line += std::to_string(f.workers) + ":" + fixed(speedup, 2);
      std::printf("%-8s %-10s %-8s %8u %8u %9s %12s %8s %8s\n", "scaling", std::string(scenario_name(f.scenario)).c_str(),
                  std::string(distribution_name(f.distribution)).c_str(), f.tunnels, f.workers, fixed(f.mpps, 2).c_str(),
                  fixed(f.mpps / f.workers, 2).c_str(), fixed(f.cycles_per_packet, 1).c_str(), fixed(speedup, 2).c_str());
    }
  }
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

void print_key_ratios(const BenchOptions& opts, const std::vector<TunnelCountFigures>& all) {
  std::string line;
  double log_sum = 0, worst_slowdown = 0;
  unsigned valid = 0;
  for (Distribution d : opts.distributions) {
    line += line.empty() ? "key ratios (ours/bare, " : "; (ours/bare, ";
    line += distribution_name(d);
    line += "):";
    for (Scenario s : opts.scenarios) {
      line += " ";
      line += scenario_name(s);
      line += " ";
      bool first = true;
      for (const TunnelCountFigures& t : all) {
        for (const ScenarioFigures& f : t.rows) {
          if (f.scenario != s || f.distribution != d) continue;
          if (!first) line += '/';
          line += fixed(f.ratio, 2);
          first = false;
          if (f.ratio > 0) {
            log_sum += std::log(f.ratio);
            ++valid;
          }
          if (f.slowdown > worst_slowdown) worst_slowdown = f.slowdown;
        }
      }
    }
  }
  line += " (tunnels ";
  for (size_t i = 0; i < all.size(); ++i) {
    if (i > 0) line += '/';
    line += std::to_string(all[i].tunnels);
  }
  line += "); geomean " + fixed(valid ? std::exp(log_sum / valid) : std::nan(""), 2);
  if (opts.updates_per_sec > 0) line += "; worst upd/ours " + fixed(worst_slowdown, 3);
  std::printf("%s\n", line.c_str());
}

}  // namespace tsp::perf
