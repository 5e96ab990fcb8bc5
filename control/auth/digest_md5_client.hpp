// DIGEST-MD5 client side, producing exactly what gogoc sends (tsp-protocol.md §2.4), for
// our tspc and the end-to-end tests. Stateless: both calls take the same inputs.
#pragma once

#include <string>
#include <string_view>
#include <variant>

namespace tsp::auth {

struct DigestClientError {
  std::string reason;
};

// From the decoded challenge, builds the decoded response text:
// charset=<echoed>,username="<user>",realm="<realm>",nonce="<nonce>",nc=00000001,
// cnonce="<cnonce>",digest-uri="tsp/<host>",response=<32 lower hex>,qop=auth
// ('"' and '\' escaped with '\' in quoted values; "charset=...," is left out when the
// challenge has none). The challenge must carry a realm and a nonce, offer qop auth (or
// no qop), and name md5-sess if it names an algorithm. user, host and cnonce must be
// non-empty.
std::variant<std::string, DigestClientError> digest_md5_client_response(
    std::string_view challenge_decoded, std::string_view user, std::string_view password,
    std::string_view digest_uri_host, std::string_view cnonce);

// True when the server's decoded "rspauth=<hex>" line proves it knows the password, for
// the exchange that digest_md5_client_response() built from the same arguments.
bool digest_md5_client_check_rspauth(std::string_view rspauth_decoded,
                                     std::string_view challenge_decoded, std::string_view user,
                                     std::string_view password, std::string_view digest_uri_host,
                                     std::string_view cnonce);

}  // namespace tsp::auth
