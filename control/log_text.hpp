// Client-supplied text in logs: control characters and non-ASCII escaped, long text cut, so a
// hostile user name cannot forge log lines or flood them.
#pragma once

#include <string>
#include <string_view>

namespace tsp {

inline std::string printable(std::string_view text, size_t max_len = 64) {
  static const char hex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < text.size() && i < max_len; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  if (text.size() > max_len) out += "...";
  return out;
}

}  // namespace tsp
