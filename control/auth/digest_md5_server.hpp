// DIGEST-MD5 server side (RFC 2831, qop=auth only) in the profile gogoc speaks
// (tsp-protocol.md §2.4). One object per authentication attempt: its nonce is single use.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "control/credentials.hpp"

namespace tsp::auth {

// The client's response directives, unquoted. After parse_response(): realm and qop are
// filled in when the client left them out, response is lower-case, authzid is empty when
// absent (an explicit empty authzid is refused).
struct DigestResponse {
  std::string username, realm, nonce, cnonce, nc, qop, digest_uri, response, authzid, charset;
};

class DigestMd5Server {
 public:
  // realm and nonce go into the challenge unescaped (gogoc does not unescape), so they
  // must be non-empty and free of '"', '\', ',' and control characters: otherwise
  // std::invalid_argument. Use make_nonce() for the nonce.
  DigestMd5Server(std::string realm, std::string nonce);

  // realm="<realm>",nonce="<nonce>",qop=auth,algorithm=md5-sess,charset=utf-8
  // (no spaces, this order). Send it base64-encoded, without a status code.
  std::string challenge() const;

  // Parses the client's decoded response (comma list, quoted or bare values, \-escapes in
  // quoted strings, keys case-insensitive, unknown keys ignored, any repeated key refused)
  // and checks: username present, realm ours (or absent), nonce ours, nc == 00000001,
  // cnonce present, qop == auth (or absent), digest-uri starts with "tsp/", response is
  // 32 hex digits. Returns the fields or an error text fit for a log line.
  std::variant<DigestResponse, std::string> parse_response(std::string_view decoded) const;

  // Checks the response against urp_md5 = MD5(user ":" realm ":" password) (the raw
  // StoredCredentials::digest_md5_urp of response.username). On success returns the
  // rspauth payload to send base64-encoded: "rspauth=<32 lower hex>".
  // Single use: the first call spends the nonce, whatever its outcome; later calls fail.
  // The fields are re-checked, so a hand-built DigestResponse cannot bypass them.
  std::optional<std::string> verify(const DigestResponse& response,
                                    const std::array<uint8_t, 16>& urp_md5);
  // Same, and also fails if the record was made for another realm than ours.
  std::optional<std::string> verify(const DigestResponse& response,
                                    const StoredCredentials& credentials);

  const std::string& realm() const { return realm_; }
  const std::string& nonce() const { return nonce_; }
  bool spent() const { return spent_; }

 private:
  // Empty when the fields satisfy every rule of parse_response(), else the reason.
  std::string check_fields(const DigestResponse& response) const;

  std::string realm_;
  std::string nonce_;
  bool spent_ = false;
};

}  // namespace tsp::auth
