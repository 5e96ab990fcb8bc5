#include "config/config_lexer.hpp"

#include <cstdio>

#include "config/config_error.hpp"

namespace tsp::config {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// Tabs are whitespace; any other control byte means the file is not the text it should be.
bool is_control(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u < 0x20 && c != '\t') || u == 0x7f;
}

std::vector<std::string_view> tokenize(std::string_view line) {
  std::vector<std::string_view> tokens;
  size_t pos = 0;
  while (pos < line.size()) {
    while (pos < line.size() && is_blank(line[pos])) ++pos;
    const size_t start = pos;
    while (pos < line.size() && !is_blank(line[pos])) ++pos;
    if (pos > start) tokens.push_back(line.substr(start, pos - start));
  }
  return tokens;
}

}  // namespace

std::vector<ConfigLine> split_config_lines(std::string_view text, const std::string& file) {
  static constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";
  if (text.substr(0, utf8_bom.size()) == utf8_bom) text.remove_prefix(utf8_bom.size());

  std::vector<ConfigLine> lines;
  int number = 0;
  while (!text.empty()) {
    ++number;
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

    for (char c : line) {
      if (is_control(c)) {
        char reason[96];
        std::snprintf(reason, sizeof reason,
                      "invalid control character (byte 0x%02x): the file must be plain text",
                      static_cast<unsigned>(static_cast<unsigned char>(c)));
        throw ConfigError(file, number, reason);
      }
    }
    auto tokens = tokenize(line);
    if (tokens.empty()) continue;
    const char first = tokens.front().front();
    if (first == '#' || first == '!') continue;
    lines.push_back(ConfigLine{number, is_blank(line.front()), std::move(tokens)});
  }
  return lines;
}

}  // namespace tsp::config
