// Standard base64 (RFC 4648 §4, with padding), as SASL exchanges use it on the TSP wire.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tsp::auth {

// Longest encoded text base64_decode() accepts. TSP messages fit one datagram (gogoc reads
// into 4 KiB buffers), so anything near this limit is an attack or garbage.
inline constexpr size_t kMaxBase64Input = 16 * 1024;

std::string base64_encode(std::string_view data);

// Strict decoding: alphabet A-Z a-z 0-9 + /, length a multiple of 4, '=' only as final
// padding, unused bits of the last symbol zero (so every text has one canonical form).
// One trailing line end ("\r\n" or "\n") and/or one trailing NUL, as the wire adds them,
// is ignored. Anything else (spaces, inner line breaks, URL-safe alphabet, missing padding,
// more than kMaxBase64Input bytes) gives nullopt.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace tsp::auth
