// First pass over a config file: lines, their indentation and their tokens.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tsp::config {

struct ConfigLine {
  int number = 0;         // 1-based, as an editor shows it
  bool indented = false;  // began with a space or tab: belongs to the open block
  std::vector<std::string_view> tokens;  // views into the parsed text
};

// Splits `text` into statement lines, dropping blank lines and full-line comments ('#' or
// '!' as the first non-blank character). Accepts LF or CRLF line ends and a leading UTF-8
// byte-order mark. Throws ConfigError on control characters (a binary or mangled file).
std::vector<ConfigLine> split_config_lines(std::string_view text, const std::string& file);

}  // namespace tsp::config
