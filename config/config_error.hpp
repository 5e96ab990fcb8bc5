// The one exception every configuration problem turns into: where it is and what is wrong.
#pragma once

#include <stdexcept>
#include <string>

namespace tsp::config {

class ConfigError : public std::runtime_error {
 public:
  // line 0 means the whole file (missing block, unreadable file): what() then reads
  // "<file>: <reason>" instead of "<file>:<line>: <reason>".
  ConfigError(std::string file, int line, std::string reason);

  const std::string& file() const noexcept { return file_; }
  int line() const noexcept { return line_; }
  const std::string& reason() const noexcept { return reason_; }

 private:
  std::string file_;
  int line_;
  std::string reason_;
};

}  // namespace tsp::config
