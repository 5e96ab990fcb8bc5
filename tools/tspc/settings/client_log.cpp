#include "tools/tspc/settings/client_log.hpp"

#include <syslog.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <stdexcept>

namespace tsp::tspc {
namespace {

constexpr std::string_view kMask = "********";

int facility_code(std::string_view name) {
  constexpr int kLocal[] = {LOG_LOCAL0, LOG_LOCAL1, LOG_LOCAL2, LOG_LOCAL3,
                            LOG_LOCAL4, LOG_LOCAL5, LOG_LOCAL6, LOG_LOCAL7};
  if (name.size() == 6 && name.starts_with("LOCAL") && name[5] >= '0' && name[5] <= '7')
    return kLocal[name[5] - '0'];
  return LOG_USER;
}

int default_priority(int level) {
  return level <= 1 ? LOG_NOTICE : level == 2 ? LOG_INFO : LOG_DEBUG;
}

std::string_view level_name(int priority) {
  switch (priority) {
    case LOG_ERR: return "error";
    case LOG_NOTICE: return "notice";
    case LOG_INFO: return "info";
    default: return "debug";
  }
}

// "2024-05-01 12:00:00.123"
std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm local{};
  localtime_r(&seconds, &local);
  char text[40];
  const size_t n = std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &local);
  std::snprintf(text + n, sizeof text - n, ".%03d", static_cast<int>(millis));
  return text;
}

std::string printable(std::string_view line) {
  std::string out;
  out.reserve(line.size());
  for (auto c : line) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", byte);
      out += hex;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string redact(std::string_view text, std::string_view secret) {
  if (secret.empty()) return std::string(text);
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  for (auto hit = text.find(secret); hit != std::string_view::npos; hit = text.find(secret, pos)) {
    out.append(text.substr(pos, hit - pos)).append(kMask);
    pos = hit + secret.size();
  }
  out.append(text.substr(pos));
  return out;
}

ClientLog::ClientLog(const TspcConfig& cfg, int verbosity, std::FILE* err)
    : passwd_(cfg.passwd),
      err_(err),
      file_name_(cfg.log_filename),
      rotation_(cfg.log_rotation),
      rotation_delete_(cfg.log_rotation_delete),
      rotation_bytes_(static_cast<long>(cfg.log_rotation_size) * 1024),
      stderr_level_(verbosity > 0 ? std::min(verbosity, 3) : cfg.log_stderr),
      file_level_(cfg.log_file > 0 ? std::max(cfg.log_file, std::min(verbosity, 3)) : 0),
      syslog_level_(std::max(cfg.log_syslog, cfg.syslog_level)) {
  if (!err_) stderr_level_ = 0;
  if (file_level_ > 0) {
    file_ = std::fopen(file_name_.c_str(), "ae");  // append, close-on-exec (template children)
    if (!file_)
      throw std::runtime_error("cannot open log file " + file_name_ + ": " + std::strerror(errno));
  }
  if (syslog_level_ > 0) openlog("tspc", LOG_PID, facility_code(cfg.syslog_facility));
}

ClientLog::~ClientLog() {
  if (file_) std::fclose(file_);
  if (syslog_level_ > 0) closelog();
}

void ClientLog::log(int level, std::string_view text) {
  level = std::clamp(level, 1, 3);
  write(level, default_priority(level), text);
}

void ClientLog::error(std::string_view text) { write(1, LOG_ERR, text); }

void ClientLog::write(int level, int priority, std::string_view text) {
  if (!enabled(level)) return;
  const std::string clean = redact(text);
  const std::string stamp = timestamp();
  std::lock_guard lock(mutex_);
  std::string_view rest = clean;
  while (!rest.empty()) {
    const auto eol = rest.find('\n');
    std::string_view line = rest.substr(0, eol);
    rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    const std::string shown = printable(line);
    const auto name = level_name(priority);
    if (level <= stderr_level_)
      std::fprintf(err_, "%s tspc %.*s: %s\n", stamp.c_str(), static_cast<int>(name.size()), name.data(), shown.c_str());
    if (file_ && level <= file_level_)
      std::fprintf(file_, "%s %.*s: %s\n", stamp.c_str(), static_cast<int>(name.size()), name.data(), shown.c_str());
    if (level <= syslog_level_) syslog(priority, "%s", shown.c_str());
  }
  if (level <= stderr_level_) std::fflush(err_);
  if (file_ && level <= file_level_) {
    std::fflush(file_);
    rotate_if_needed();
  }
}

// Called with mutex_ held, after a write to the file.
void ClientLog::rotate_if_needed() {
  if (!rotation_ || std::ftell(file_) < rotation_bytes_) return;
  std::fclose(file_);
  file_ = nullptr;
  if (rotation_delete_) {
    std::remove(file_name_.c_str());
  } else {
    std::string stamp = timestamp();
    std::replace(stamp.begin(), stamp.end(), ' ', '_');
    std::rename(file_name_.c_str(), (file_name_ + "." + stamp).c_str());
  }
  file_ = std::fopen(file_name_.c_str(), "ae");
  // If reopening fails file_ stays null: keep running, stderr and syslog still work.
}

}  // namespace tsp::tspc
