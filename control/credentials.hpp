// What the store keeps of a user's password: never the password itself.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace tsp {

struct StoredCredentials {
  // DIGEST-MD5 (RFC 2831) needs MD5(user ":" realm ":" password), raw 16 bytes, so the
  // realm is part of the credential: changing the realm invalidates DIGEST-MD5 logins.
  std::string realm;
  std::array<uint8_t, 16> digest_md5_urp{};
  // Salted PBKDF2-HMAC-SHA256 keys in the SCRAM-SHA-256 shape (RFC 5802/7677): PLAIN is
  // verified against them, and SCRAM-SHA-256 can be added without a password reset.
  std::vector<uint8_t> scram_salt;
  uint32_t scram_iterations = 0;
  std::array<uint8_t, 32> scram_stored_key{};
  std::array<uint8_t, 32> scram_server_key{};
};

}  // namespace tsp
