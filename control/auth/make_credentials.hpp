// Turning a password into what the store keeps (tsp::StoredCredentials), and checking a
// PLAIN password against it, without ever keeping the password itself.
#pragma once

#include <cstdint>
#include <string_view>

#include "control/credentials.hpp"

namespace tsp::auth {

// RFC 7677 recommends at least 4096 PBKDF2 iterations for SCRAM-SHA-256.
inline constexpr uint32_t kScramIterations = 4096;
inline constexpr size_t kScramSaltBytes = 16;
// A record claiming more iterations than this is treated as corrupt rather than letting
// one login burn seconds of CPU.
inline constexpr uint32_t kMaxScramIterations = 1'000'000;

// digest_md5_urp = MD5(user ":" realm ":" password) raw; SCRAM-SHA-256 keys from a fresh
// 16-byte random salt and 4096 iterations (RFC 5802 §3). The password is used as given
// (no SASLprep). Throws std::runtime_error if no secure randomness is available.
StoredCredentials make_credentials(std::string_view user, std::string_view realm,
                                   std::string_view password);

// Recomputes StoredKey from the password with the record's salt and iterations and
// compares in constant time. False when the record has no (or implausible) SCRAM keys.
bool verify_password(const StoredCredentials& credentials, std::string_view password);

}  // namespace tsp::auth
