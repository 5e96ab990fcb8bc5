#include "control/daemon/daemon_logging.hpp"

#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/spdlog.h>
#include <syslog.h>

#include <array>
#include <memory>
#include <utility>

namespace tsp::daemon {

namespace {

constexpr const char* kIdent = "tspbrokerd";
constexpr const char* kStderrPattern = "%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v";

// The logger's only sink: forwards to the current destination under its own mutex, so a
// reload can swap the destination while other threads log.
std::shared_ptr<spdlog::sinks::dist_sink_mt>& destination() {
  static auto sink = std::make_shared<spdlog::sinks::dist_sink_mt>();
  return sink;
}

spdlog::sink_ptr make_sink(const config::LogTarget& target) {
  if (target.syslog) {
    const int facility = syslog_facility(target.facility).value_or(LOG_DAEMON);
    // The message only: syslog adds its own time stamp, host and level.
    return std::make_shared<spdlog::sinks::syslog_sink_mt>(kIdent, LOG_PID, facility, false);
  }
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  sink->set_pattern(kStderrPattern);
  return sink;
}

}  // namespace

std::optional<int> syslog_facility(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, int>, 10> kFacilities{{
      {"daemon", LOG_DAEMON},
      {"user", LOG_USER},
      {"local0", LOG_LOCAL0},
      {"local1", LOG_LOCAL1},
      {"local2", LOG_LOCAL2},
      {"local3", LOG_LOCAL3},
      {"local4", LOG_LOCAL4},
      {"local5", LOG_LOCAL5},
      {"local6", LOG_LOCAL6},
      {"local7", LOG_LOCAL7},
  }};
  for (const auto& [n, f] : kFacilities)
    if (n == name) return f;
  return std::nullopt;
}

void setup_logging(const config::LogTarget& target, const std::string& level) {
  destination()->set_sinks({make_sink(target)});
  auto logger = std::make_shared<spdlog::logger>(kIdent, destination());
  logger->set_pattern(kStderrPattern);  // reaches the stderr sink; syslog's ignores it
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
}

void apply_log_settings(const config::LogTarget& target, const std::string& level) {
  destination()->set_sinks({make_sink(target)});
  spdlog::set_level(spdlog::level::from_str(level));
}

}  // namespace tsp::daemon
