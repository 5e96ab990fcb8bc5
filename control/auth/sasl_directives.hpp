// The "name=value, name="quoted value"" lists of RFC 2831 §7.1 that DIGEST-MD5 challenges,
// responses and rspauth lines are made of. Shared by the server and the client side.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tsp::auth {

// DIGEST-MD5 messages are a few hundred bytes (RFC 2831 caps challenges at 2048 and
// responses at 4096); refuse anything longer before looking at it.
inline constexpr size_t kMaxDirectiveText = 4096;

struct Directive {
  std::string name;   // lower-cased: directive names are case-insensitive
  std::string value;  // unquoted and unescaped
};

// Elements are separated by commas with optional spaces/tabs; empty elements are skipped.
// A value is a token or a quoted string in which '\' escapes the next character.
// Control characters (other than tab inside quotes) are refused, so are empty tokens,
// unterminated quotes and missing '='. Duplicates are left for the caller to judge.
// Returns the directives in order, or an error text.
std::variant<std::vector<Directive>, std::string> parse_directives(std::string_view text);

// `"value"` with '"' and '\' escaped by '\' (RFC 2831 quoted-string).
std::string quote_directive_value(std::string_view value);

}  // namespace tsp::auth
