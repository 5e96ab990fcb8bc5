// SCRAM-SHA-256 server side (RFC 5802, RFC 7677) as message logic only: the caller moves the
// base64 on the wire and looks the user's StoredCredentials up between the two steps.
// No channel binding (-PLUS is never offered). One object per attempt, single use.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "control/auth/scram_attributes.hpp"

namespace tsp::auth {

// The client-first message, parsed.
struct ScramClientFirst {
  std::string user;          // decoded saslname (=2C -> ',', =3D -> '=')
  std::string client_nonce;  // r= value
  std::string gs2_header;    // "n,," or "y,," or with a=authzid, exactly as received, ending in ','
  std::string bare;          // client-first-message-bare exactly as received

  bool operator==(const ScramClientFirst&) const = default;
};

// Accepts gs2 header "n,," or "y,," (optionally "a=<authzid>" equal to the user) followed
// by "n=<user>,r=<nonce>" and extensions; refuses channel binding ("p="), mandatory
// extensions ("m="), user names over 255 bytes or with control characters, and client
// nonces outside 8..255 printable characters. Never throws on bad input.
std::variant<ScramClientFirst, ScramFailure> parse_scram_client_first(std::string_view decoded);

// A fake salt for a user the store does not know, so the server-first message does not reveal
// whether a name exists (RFC 5802 §5.1): HMAC-SHA-256(secret, user), first 16 bytes. The
// secret is a server-wide random key (empty: std::invalid_argument, as it would hide nothing).
std::vector<uint8_t> scram_fake_salt(std::span<const uint8_t> secret, std::string_view user);

class ScramSha256Server {
 public:
  // salt non-empty, 1 <= iterations <= kMaxScramIterations, server_nonce non-empty printable
  // ASCII without ',', first as parse_scram_client_first() made it, server-first message
  // within 2048 bytes (else std::invalid_argument: these come from our own store/RNG, not
  // from the client).
  ScramSha256Server(ScramClientFirst first, std::vector<uint8_t> salt, uint32_t iterations,
                    std::string server_nonce);

  // "r=<client nonce><server nonce>,s=<base64 salt>,i=<iterations>"
  std::string server_first() const { return server_first_; }

  // Checks the decoded client-final message and the proof against the stored keys. On success
  // the server-final message "v=<base64 ServerSignature>". Single use: the first call spends it,
  // whatever its outcome; later calls fail.
  std::variant<std::string, ScramFailure> verify_client_final(
      std::string_view decoded, const std::array<uint8_t, 32>& stored_key,
      const std::array<uint8_t, 32>& server_key);

  const std::string& user() const { return first_.user; }
  bool spent() const { return spent_; }

 private:
  ScramClientFirst first_;
  std::string expected_nonce_;  // client nonce + server nonce
  std::string server_first_;    // kept verbatim: it is part of AuthMessage
  bool spent_ = false;
};

}  // namespace tsp::auth
