// tspc's log: one call, up to three destinations, each with its own level (protocol §8.3).
//   level 1: errors and the outcome (your IPv6 address, prefix, DNS)
//   level 2: progress (connecting, authenticating, tunnel up/down)
//   level 3: every TSP message and XML, every TSP_* variable, the template script's output
// A message of level L goes to each destination whose level is >= L:
//   stderr: -v/-vv/-vvv when given, else log_stderr (default 1);
//   file:   log_filename (default tspc.log, current directory) at log_file (default 2: the
//           session and the tunnel configuration), raised to the -v level; log_file=0 = none;
//           rotated at log_rotation_size KiB (renamed to <name>.<timestamp>, or truncated
//           with log_rotation_delete=yes);
//   syslog: openlog("tspc", LOG_PID, syslog_facility) at max(log_syslog, syslog_level).
// Every line is stamped with the local time. The password never reaches a destination: any
// occurrence of cfg.passwd is replaced by "********". Control bytes are written as \xNN and
// multi-line texts (XML) become one stamped line each. Thread-safe.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

#include "tools/tspc/settings/tspc_config.hpp"

namespace tsp::tspc {

// Every occurrence of `secret` in `text` replaced by "********" (nothing when secret is empty).
std::string redact(std::string_view text, std::string_view secret);

class ClientLog {
 public:
  // Throws std::runtime_error when the log file cannot be opened (tspc exits with
  // ExitCode::LogInitFailed). `err` is where the stderr destination writes (tests pass a file).
  ClientLog(const TspcConfig& cfg, int verbosity, std::FILE* err = stderr);
  ~ClientLog();
  ClientLog(const ClientLog&) = delete;
  ClientLog& operator=(const ClientLog&) = delete;

  void log(int level, std::string_view text);  // level 1..3 (clamped)
  void error(std::string_view t);              // level 1, syslog priority ERR
  void notice(std::string_view t) { log(1, t); }  // level 1 outcome, syslog NOTICE
  void info(std::string_view t) { log(2, t); }
  void debug(std::string_view t) { log(3, t); }

  std::string redact(std::string_view text) const { return tspc::redact(text, passwd_); }
  int stderr_level() const { return stderr_level_; }
  int file_level() const { return file_level_; }
  int syslog_level() const { return syslog_level_; }
  bool enabled(int level) const {
    return level <= stderr_level_ || level <= file_level_ || level <= syslog_level_;
  }

 private:
  void write(int level, int priority, std::string_view text);
  void rotate_if_needed();

  std::mutex mutex_;
  std::string passwd_;
  std::FILE* err_;
  std::FILE* file_ = nullptr;
  std::string file_name_;
  bool rotation_, rotation_delete_;
  long rotation_bytes_;
  int stderr_level_, file_level_, syslog_level_;
};

}  // namespace tsp::tspc
