#include "control/auth/digest_md5_client.hpp"

#include <algorithm>
#include <optional>
#include <vector>

#include "control/auth/ascii.hpp"
#include "control/auth/crypto.hpp"
#include "control/auth/digest_md5_hash.hpp"
#include "control/auth/sasl_directives.hpp"

namespace tsp::auth {

namespace {

constexpr std::string_view kNc = "00000001";
constexpr std::string_view kQop = "auth";

struct Challenge {
  std::string realm, nonce;
  std::optional<std::string> charset;
};

bool is_bare_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

// qop in a challenge is a (possibly quoted) comma list such as "auth,auth-int".
bool offers_qop_auth(std::string_view list) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item == kQop) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

std::variant<Challenge, DigestClientError> parse_challenge(std::string_view text) {
  auto parsed = parse_directives(text);
  if (auto* err = std::get_if<std::string>(&parsed)) return DigestClientError{*err};

  Challenge c;
  std::optional<std::string> realm, nonce, qop, algorithm;
  std::vector<std::string> seen;
  for (auto& d : std::get<std::vector<Directive>>(parsed)) {
    // RFC 2831 lets a server offer several realms; we take the first one.
    if (d.name == "realm") {
      if (!realm) realm = std::move(d.value);
      continue;
    }
    if (std::find(seen.begin(), seen.end(), d.name) != seen.end())
      return DigestClientError{"challenge repeats directive " + d.name};
    seen.push_back(d.name);
    if (d.name == "nonce")
      nonce = std::move(d.value);
    else if (d.name == "qop")
      qop = std::move(d.value);
    else if (d.name == "algorithm")
      algorithm = std::move(d.value);
    else if (d.name == "charset")
      c.charset = std::move(d.value);
  }
  if (!realm) return DigestClientError{"challenge has no realm"};
  if (!nonce || nonce->empty()) return DigestClientError{"challenge has no nonce"};
  if (qop && !offers_qop_auth(*qop)) return DigestClientError{"challenge does not offer qop auth"};
  if (algorithm && !ascii::iequals(*algorithm, "md5-sess"))
    return DigestClientError{"challenge algorithm is not md5-sess"};
  if (c.charset && !is_bare_token(*c.charset))
    return DigestClientError{"challenge charset is not a plain token"};
  c.realm = std::move(*realm);
  c.nonce = std::move(*nonce);
  return c;
}

// Everything both calls share: the validated challenge and the hash inputs.
struct Exchange {
  Challenge challenge;
  std::string digest_uri;
  std::array<uint8_t, 16> urp_md5;

  detail::DigestMd5Inputs inputs(std::string_view cnonce) const {
    return {challenge.nonce, cnonce, kNc, kQop, digest_uri, {}};
  }
};

std::variant<Exchange, DigestClientError> prepare(std::string_view challenge_decoded,
                                                  std::string_view user, std::string_view password,
                                                  std::string_view host, std::string_view cnonce) {
  if (user.empty()) return DigestClientError{"empty user name"};
  if (host.empty()) return DigestClientError{"empty digest-uri host"};
  if (cnonce.empty()) return DigestClientError{"empty cnonce"};
  auto parsed = parse_challenge(challenge_decoded);
  if (auto* err = std::get_if<DigestClientError>(&parsed)) return std::move(*err);

  Exchange ex{std::move(std::get<Challenge>(parsed)), "tsp/" + std::string(host), {}};
  std::string urp(user);
  urp.append(":").append(ex.challenge.realm).append(":").append(password);
  ex.urp_md5 = crypto::md5(urp);
  return ex;
}

}  // namespace

std::variant<std::string, DigestClientError> digest_md5_client_response(
    std::string_view challenge_decoded, std::string_view user, std::string_view password,
    std::string_view digest_uri_host, std::string_view cnonce) {
  auto prepared = prepare(challenge_decoded, user, password, digest_uri_host, cnonce);
  if (auto* err = std::get_if<DigestClientError>(&prepared)) return std::move(*err);
  const auto& ex = std::get<Exchange>(prepared);

  std::string out;
  if (ex.challenge.charset) out.append("charset=").append(*ex.challenge.charset).append(",");
  out.append("username=").append(quote_directive_value(user));
  out.append(",realm=").append(quote_directive_value(ex.challenge.realm));
  out.append(",nonce=").append(quote_directive_value(ex.challenge.nonce));
  out.append(",nc=").append(kNc);
  out.append(",cnonce=").append(quote_directive_value(cnonce));
  out.append(",digest-uri=").append(quote_directive_value(ex.digest_uri));
  out.append(",response=").append(detail::digest_md5_response_hex(ex.urp_md5, ex.inputs(cnonce)));
  out.append(",qop=").append(kQop);
  return out;
}

bool digest_md5_client_check_rspauth(std::string_view rspauth_decoded,
                                     std::string_view challenge_decoded, std::string_view user,
                                     std::string_view password, std::string_view digest_uri_host,
                                     std::string_view cnonce) {
  auto prepared = prepare(challenge_decoded, user, password, digest_uri_host, cnonce);
  if (std::holds_alternative<DigestClientError>(prepared)) return false;
  const auto& ex = std::get<Exchange>(prepared);

  auto parsed = parse_directives(rspauth_decoded);
  if (std::holds_alternative<std::string>(parsed)) return false;
  const Directive* rspauth = nullptr;
  for (const auto& d : std::get<std::vector<Directive>>(parsed)) {
    if (d.name != "rspauth") continue;
    if (rspauth != nullptr) return false;  // two answers: trust neither
    rspauth = &d;
  }
  if (rspauth == nullptr) return false;
  const auto expected = detail::digest_md5_rspauth_hex(ex.urp_md5, ex.inputs(cnonce));
  return crypto::constant_time_equal(expected, ascii::to_lower(rspauth->value));
}

}  // namespace tsp::auth
