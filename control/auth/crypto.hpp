// Thin, exception-free wrappers over the OpenSSL 3 primitives the SASL mechanisms need,
// so the mechanism files read as protocol steps rather than as OpenSSL plumbing.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tsp::auth::crypto {

using Md5Digest = std::array<uint8_t, 16>;
using Sha256Digest = std::array<uint8_t, 32>;

Md5Digest md5(std::string_view data);
Sha256Digest sha256(std::span<const uint8_t> data);
Sha256Digest hmac_sha256(std::span<const uint8_t> key, std::string_view data);
// RFC 5802 Hi(): PBKDF2 with HMAC-SHA-256. Throws std::invalid_argument when the sizes
// do not fit OpenSSL's int parameters or iterations is 0.
Sha256Digest pbkdf2_sha256(std::string_view password, std::span<const uint8_t> salt,
                           uint32_t iterations);

// Cryptographically random bytes; throws std::runtime_error if the RNG cannot deliver
// (an unseeded RNG must never silently produce a predictable nonce or salt).
std::vector<uint8_t> random_bytes(size_t count);

std::string to_hex_lower(std::span<const uint8_t> bytes);
inline std::string to_hex_lower(std::string_view bytes) {
  return to_hex_lower(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}
inline std::string_view as_chars(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// Constant-time comparison (CRYPTO_memcmp); different lengths compare unequal at once,
// which leaks only the length, never the content.
bool constant_time_equal(std::span<const uint8_t> a, std::span<const uint8_t> b);
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace tsp::auth::crypto
