#include "perf/tsp_load/load_stats.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace tsp::load {

std::string group_name(const GroupKey& key) {
  return fmt::format("{} {} {}", key.transport == Transport::Udp ? "udp" : "tcp",
                     key.auth == AuthKind::Anonymous ? "anonymous" : key.auth == AuthKind::Plain ? "plain" : "digest-md5",
                     key.host_type == HostType::Host ? "host" : "router");
}

void GroupStats::add_failure(const ClientDialogue& d) {
  switch (d.failure()) {
    case FailureKind::Status: ++failures[fmt::format("status {}", d.status())]; return;
    case FailureKind::Protocol: ++failures["protocol: " + d.failure_text()]; return;
    case FailureKind::Timeout: ++failures["timeout"]; return;
    case FailureKind::Transport: ++failures["transport: " + d.failure_text()]; return;
    case FailureKind::None: ++failures["unfinished"]; return;
  }
}

void GroupStats::merge(const GroupStats& other) {
  started += other.started;
  succeeded += other.succeeded;
  latency_us.insert(latency_us.end(), other.latency_us.begin(), other.latency_us.end());
  for (const auto& [why, n] : other.failures) failures[why] += n;
}

GroupStats RunReport::total() const {
  GroupStats t;
  for (const auto& [key, g] : groups) t.merge(g);
  return t;
}

void RunReport::merge(const RunReport& other) {
  for (const auto& [key, g] : other.groups) groups[key].merge(g);
  seconds = std::max(seconds, other.seconds);
  udp_retransmissions += other.udp_retransmissions;
}

double percentile_ms(std::vector<uint32_t> sample, double p) {
  if (sample.empty()) return 0;
  // Nearest rank: the smallest value with at least p % of the sample at or below it.
  const auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sample.size())));
  const size_t index = rank == 0 ? 0 : std::min(rank - 1, sample.size() - 1);
  std::nth_element(sample.begin(), sample.begin() + static_cast<std::ptrdiff_t>(index), sample.end());
  return sample[index] / 1000.0;
}

std::string format_report(const RunReport& report) {
  const double secs = report.seconds > 0 ? report.seconds : 1e-9;
  std::string out = fmt::format("{:<26} {:>8} {:>8} {:>7} {:>10} {:>9} {:>9}\n", "group", "sessions", "ok",
                                "failed", "ok/s", "p50 ms", "p99 ms");
  auto row = [&](const std::string& name, const GroupStats& g) {
    out += fmt::format("{:<26} {:>8} {:>8} {:>7} {:>10.0f} {:>9.2f} {:>9.2f}\n", name, g.started, g.succeeded,
                       g.failed(), static_cast<double>(g.succeeded) / secs, percentile_ms(g.latency_us, 50),
                       percentile_ms(g.latency_us, 99));
  };
  for (const auto& [key, g] : report.groups) row(group_name(key), g);
  const GroupStats total = report.total();
  row("total", total);
  for (const auto& [why, n] : total.failures) out += fmt::format("  failed: {} x {}\n", n, why);
  out += fmt::format("tsp_load: clients={} ok={} failed={} seconds={:.3f} rate={:.0f} p50_ms={:.2f} p99_ms={:.2f} "
                     "retransmits={}\n",
                     total.started, total.succeeded, total.failed(), report.seconds,
                     static_cast<double>(total.succeeded) / secs, percentile_ms(total.latency_us, 50),
                     percentile_ms(total.latency_us, 99), report.udp_retransmissions);
  return out;
}

}  // namespace tsp::load
