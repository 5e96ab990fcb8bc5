// The client half of DIGEST-MD5 exactly as gogoc 1.2 does it (tsp-protocol.md §2.4): its
// challenge reader (split on ',', strip one pair of quotes), its response text and the rspauth
// it expects. Kept apart from control/auth on purpose: an independent implementation is the
// oracle the daemon is checked against.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tsp::e2e {

std::string base64_encode(std::string_view bytes);
// Strict: only the standard alphabet with '=' padding, length a multiple of 4.
std::optional<std::string> base64_decode(std::string_view text);

struct DigestChallenge {
  std::string realm, nonce, qop, algorithm, charset;
};
// gogoc's ExtractChallenge(); nullopt when realm, nonce, qop or charset is missing.
std::optional<DigestChallenge> parse_digest_challenge(std::string_view decoded);

struct DigestClientAnswer {
  std::string response_text;     // what gogoc base64-encodes and sends
  std::string expected_rspauth;  // "rspauth=<32 hex>", what the server must send back
};
// `digest_uri_host` is gogoc's server= setting ("127.0.0.1:3653"); `cnonce` its decimal time.
DigestClientAnswer digest_md5_answer(const DigestChallenge& challenge, std::string_view user,
                                     std::string_view password, std::string_view digest_uri_host,
                                     std::string_view cnonce);
// The same with any digest-uri, so the RFC 2831 example ("imap/...") can check the arithmetic.
DigestClientAnswer digest_md5_answer_for_uri(const DigestChallenge& challenge, std::string_view user,
                                             std::string_view password, const std::string& digest_uri,
                                             std::string_view cnonce);

}  // namespace tsp::e2e
