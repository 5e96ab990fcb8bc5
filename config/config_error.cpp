#include "config/config_error.hpp"

#include <utility>

namespace tsp::config {

static std::string format_location(const std::string& file, int line, const std::string& reason) {
  if (line <= 0) return file + ": " + reason;
  return file + ":" + std::to_string(line) + ": " + reason;
}

ConfigError::ConfigError(std::string file, int line, std::string reason)
    : std::runtime_error(format_location(file, line, reason)),
      file_(std::move(file)),
      line_(line),
      reason_(std::move(reason)) {}

}  // namespace tsp::config
