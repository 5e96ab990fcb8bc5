// SCRAM-SHA-256 client side (RFC 5802, RFC 7677), for our tspc and the end-to-end tests:
// message logic only, no channel binding ("n,," and c=biws), no authzid. One object per
// attempt: client_final() runs once, and the server-final check is against that exchange.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "control/auth/crypto.hpp"
#include "control/auth/scram_attributes.hpp"

namespace tsp::auth {

class ScramSha256Client {
 public:
  // user non-empty, at most 255 bytes, without control characters (what our server
  // accepts); client_nonce non-empty printable ASCII without ',' (else std::invalid_argument).
  ScramSha256Client(std::string user, std::string password, std::string client_nonce);

  // "n,,n=<user with ',' -> =2C and '=' -> =3D>,r=<nonce>"
  std::string client_first() const;

  // From the decoded server-first message, the client-final message
  // "c=biws,r=<nonce>,p=<base64 proof>", or why the server-first message is unacceptable
  // (an "e=" message gives "server error: <its text>"). Runs PBKDF2 with the server's
  // iteration count (at most kMaxScramIterations). Single use: later calls fail.
  std::variant<std::string, ScramFailure> client_final(std::string_view server_first_decoded);

  // True when the decoded server-final "v=..." proves the server holds the keys (constant time);
  // false for "e=..." or anything else, or if client_final() did not succeed first.
  bool check_server_final(std::string_view server_final_decoded) const;

 private:
  std::string client_first_bare() const;

  std::string user_;
  std::string password_;
  std::string client_nonce_;
  bool used_ = false;
  std::optional<crypto::Sha256Digest> server_signature_;  // set by a successful client_final()
};

}  // namespace tsp::auth
