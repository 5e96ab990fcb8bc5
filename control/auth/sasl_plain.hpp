// SASL PLAIN (RFC 4616) message parsing, as gogoc sends it after "AUTHENTICATE PLAIN".
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tsp::auth {

inline constexpr size_t kMaxPlainPassword = 255;
inline constexpr size_t kMaxPlainUser = 253;  // authcid and authzid

struct PlainMessage {
  std::string authzid;  // empty when the client asks for no other identity
  std::string authcid;
  std::string password;
};

// Accepts "[authzid]\0authcid\0passwd" and, because the TCP framer may already have taken
// the leading NUL as the terminator of the "AUTHENTICATE PLAIN\r\n\0" line, also
// "authcid\0passwd". One trailing "\r\n", optionally followed by a NUL, is stripped.
// Refuses: no NUL or more than two, empty authcid or password, authcid/authzid over 253
// bytes, password over 255 bytes, and any other CR or LF.
std::optional<PlainMessage> parse_sasl_plain(std::string_view blob);

}  // namespace tsp::auth
