// DIGEST-MD5 (RFC 2831 §2.1.2.1) hash core, qop=auth, algorithm md5-sess. Internal to the
// server and client files; exposed here so tests can check it against the RFC's own example
// (whose digest-uri is "imap/...", which the TSP server itself refuses).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace tsp::auth::detail {

struct DigestMd5Inputs {
  std::string_view nonce;
  std::string_view cnonce;
  std::string_view nc;
  std::string_view qop;
  std::string_view digest_uri;
  std::string_view authzid;  // empty: not part of A1
};

// urp_md5 = MD5(user ":" realm ":" password), 16 raw bytes.
// A1 = urp_md5 ":" nonce ":" cnonce [":" authzid];  HA1 = hex(MD5(A1)).
std::string digest_md5_ha1_hex(const std::array<uint8_t, 16>& urp_md5, const DigestMd5Inputs& in);

// The client's "response" value: A2 = "AUTHENTICATE:" digest-uri;
// hex(MD5(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" hex(MD5(A2)))). Lower-case hex.
std::string digest_md5_response_hex(const std::array<uint8_t, 16>& urp_md5,
                                    const DigestMd5Inputs& in);

// The server's "rspauth" value: the same with A2 = ":" digest-uri.
std::string digest_md5_rspauth_hex(const std::array<uint8_t, 16>& urp_md5,
                                   const DigestMd5Inputs& in);

}  // namespace tsp::auth::detail
