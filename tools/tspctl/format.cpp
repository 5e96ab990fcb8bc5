#include "tools/tspctl/format.hpp"

#include <fmt/format.h>

#include <ctime>

namespace tsp::tspctl {

std::string duration(int64_t s) {
  if (s < 0) s = 0;
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  if (s < 86400) return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
  return fmt::format("{}d{:02}h", s / 86400, (s % 86400) / 3600);
}

std::string bytes(uint64_t n) {
  if (n < 1000) return fmt::format("{}B", n);
  static constexpr const char* kUnits[] = {"kB", "MB", "GB", "TB", "PB", "EB"};
  double v = static_cast<double>(n) / 1000.0;
  size_t unit = 0;
  while (v >= 999.95 && unit + 1 < std::size(kUnits)) {
    v /= 1000.0;
    ++unit;
  }
  return fmt::format("{:.1f}{}", v, kUnits[unit]);
}

std::string cell(const nlohmann::json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

namespace {

// Unix seconds as UTC in strftime's `format`; the number itself when gmtime cannot say.
std::string utc_text(int64_t unix_seconds, const char* format) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (::gmtime_r(&t, &tm) == nullptr) return std::to_string(unix_seconds);
  char buf[32];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

}  // namespace

std::string timestamp(int64_t unix_seconds) { return utc_text(unix_seconds, "%Y-%m-%d %H:%M:%S"); }

std::string iso_time(int64_t unix_seconds) { return utc_text(unix_seconds, "%Y-%m-%dT%H:%M:%SZ"); }

}  // namespace tsp::tspctl
