// Writing JSON text by hand, for listings too big to go through a JSON DOM quickly. Strings
// are escaped as RFC 8259 wants, and bytes that are not UTF-8 become U+FFFD (a user name is
// bytes; the reader's parser would otherwise refuse the whole reply).
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace tsp::admin {

void append_json_string(std::string& out, std::string_view text);

template <typename Integer>
void append_json_number(std::string& out, Integer value) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, r.ptr);
}

}  // namespace tsp::admin
