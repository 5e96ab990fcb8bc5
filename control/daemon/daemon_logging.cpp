#include "control/daemon/daemon_logging.hpp"

#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/spdlog.h>
#include <syslog.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <exception>
#include <memory>
#include <utility>

#include "control/daemon/buffered_log_sink.hpp"

namespace tsp::daemon {

namespace {

constexpr const char* kIdent = "tspbrokerd";
constexpr const char* kStderrPattern = "%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v";
// How late a buffered info line may appear: the netns tests wait for lines in seconds.
constexpr std::chrono::milliseconds kFlushInterval{50};

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
  // A terminal gets colours and every line at once; a file, pipe or the journal gets
  // buffered writes (see BufferedFdSink: one write(2) per line cost the I/O thread).
  spdlog::sink_ptr sink;
  if (isatty(STDERR_FILENO)) sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  else sink = std::make_shared<BufferedFdSink>(STDERR_FILENO);
  sink->set_pattern(kStderrPattern);
  return sink;
}

// Buffered lines must not die with the process: an uncaught exception flushes them first.
std::terminate_handler previous_terminate = nullptr;
void flush_then_terminate() {
  destination()->flush();
  if (previous_terminate) previous_terminate();
  std::abort();
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
  logger->flush_on(spdlog::level::warn);  // warnings and worse never wait in the buffer
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
  // Constructed after destination(), so destroyed before it at exit (flushing once more).
  static PeriodicFlusher flusher(destination(), kFlushInterval);
  static const bool terminate_hooked = [] {
    previous_terminate = std::set_terminate(flush_then_terminate);
    return true;
  }();
  (void)terminate_hooked;
}

void apply_log_settings(const config::LogTarget& target, const std::string& level) {
  destination()->set_sinks({make_sink(target)});
  spdlog::set_level(spdlog::level::from_str(level));
}

}  // namespace tsp::daemon
