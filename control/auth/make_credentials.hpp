// Turning a password into what the store keeps (tsp::StoredCredentials), and checking a
// PLAIN password against it, without ever keeping the password itself.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "control/auth/crypto.hpp"
#include "control/credentials.hpp"

namespace tsp::auth {

// RFC 7677 recommends at least 4096 PBKDF2 iterations for SCRAM-SHA-256.
inline constexpr uint32_t kScramIterations = 4096;
inline constexpr size_t kScramSaltBytes = 16;
// A record claiming more iterations than this is treated as corrupt rather than letting
// one login burn seconds of CPU.
inline constexpr uint32_t kMaxScramIterations = 1'000'000;

// RFC 5802 §3, from one PBKDF2 run: SaltedPassword = Hi(password, salt, i);
// ClientKey = HMAC(SaltedPassword, "Client Key"); StoredKey = H(ClientKey);
// ServerKey = HMAC(SaltedPassword, "Server Key"). The store keeps StoredKey and ServerKey
// only: ClientKey is what a SCRAM client proves it knows, as good as the password.
struct ScramKeys {
  crypto::Sha256Digest stored_key;
  crypto::Sha256Digest server_key;
  crypto::Sha256Digest client_key;
};

// Throws std::invalid_argument when iterations is 0 or the sizes do not fit OpenSSL.
ScramKeys derive_scram_keys(std::string_view password, std::span<const uint8_t> salt,
                            uint32_t iterations);

// digest_md5_urp = MD5(user ":" realm ":" password) raw; SCRAM-SHA-256 keys from a fresh
// 16-byte random salt and 4096 iterations (RFC 5802 §3). The password is used as given
// (no SASLprep). Throws std::runtime_error if no secure randomness is available.
StoredCredentials make_credentials(std::string_view user, std::string_view realm,
                                   std::string_view password);

// Recomputes StoredKey from the password with the record's salt and iterations and
// compares in constant time. False when the record has no (or implausible) SCRAM keys.
bool verify_password(const StoredCredentials& credentials, std::string_view password);

}  // namespace tsp::auth
