#include "control/auth/digest_md5_server.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>
#include <vector>

#include "control/auth/ascii.hpp"
#include "control/auth/crypto.hpp"
#include "control/auth/digest_md5_hash.hpp"
#include "control/auth/sasl_directives.hpp"

namespace tsp::auth {

namespace {

// What gogoc's ExtractChallenge() (split on ',', strip one pair of quotes) survives.
void require_challenge_safe(std::string_view what, std::string_view value) {
  const bool bad = value.empty() || std::any_of(value.begin(), value.end(), [](char c) {
                     return c == '"' || c == '\\' || c == ',' ||
                            static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
                   });
  if (bad)
    throw std::invalid_argument("DIGEST-MD5 " + std::string(what) +
                                " must be non-empty, without quotes, backslashes, commas or "
                                "control characters");
}

// Where each directive lands in DigestResponse; names not listed are ignored.
std::string* field_for(DigestResponse& r, std::string_view name) {
  if (name == "username") return &r.username;
  if (name == "realm") return &r.realm;
  if (name == "nonce") return &r.nonce;
  if (name == "cnonce") return &r.cnonce;
  if (name == "nc") return &r.nc;
  if (name == "qop") return &r.qop;
  if (name == "digest-uri") return &r.digest_uri;
  if (name == "response") return &r.response;
  if (name == "authzid") return &r.authzid;
  if (name == "charset") return &r.charset;
  return nullptr;
}

}  // namespace

DigestMd5Server::DigestMd5Server(std::string realm, std::string nonce)
    : realm_(std::move(realm)), nonce_(std::move(nonce)) {
  require_challenge_safe("realm", realm_);
  require_challenge_safe("nonce", nonce_);
}

std::string DigestMd5Server::challenge() const {
  return "realm=\"" + realm_ + "\",nonce=\"" + nonce_ +
         "\",qop=auth,algorithm=md5-sess,charset=utf-8";
}

std::variant<DigestResponse, std::string> DigestMd5Server::parse_response(
    std::string_view decoded) const {
  auto parsed = parse_directives(decoded);
  if (auto* err = std::get_if<std::string>(&parsed)) return std::move(*err);

  DigestResponse r;
  bool has_realm = false, has_qop = false, has_authzid = false;
  std::set<std::string> seen;
  for (auto& d : std::get<std::vector<Directive>>(parsed)) {
    if (!seen.insert(d.name).second) return "directive " + d.name + " appears twice";
    std::string* field = field_for(r, d.name);
    if (field == nullptr) continue;
    has_realm |= d.name == "realm";
    has_qop |= d.name == "qop";
    has_authzid |= d.name == "authzid";
    *field = std::move(d.value);
  }
  if (has_authzid && r.authzid.empty()) return "authzid is present but empty";
  if (!has_realm) r.realm = realm_;
  if (!has_qop) r.qop = "auth";
  r.response = ascii::to_lower(std::move(r.response));

  if (auto reason = check_fields(r); !reason.empty()) return reason;
  return r;
}

std::string DigestMd5Server::check_fields(const DigestResponse& r) const {
  if (r.username.empty()) return "username missing";
  if (r.realm != realm_) return "realm is not ours";
  if (r.nonce != nonce_) return "nonce is not ours";
  if (r.nc != "00000001") return "nc must be 00000001";
  if (r.cnonce.empty()) return "cnonce missing";
  if (r.qop != "auth") return "qop must be auth";
  if (!r.digest_uri.starts_with("tsp/")) return "digest-uri does not start with tsp/";
  if (r.response.size() != 32 ||
      !std::all_of(r.response.begin(), r.response.end(), ascii::is_hex_digit))
    return "response is not 32 hex digits";
  return {};
}

std::optional<std::string> DigestMd5Server::verify(const DigestResponse& response,
                                                   const std::array<uint8_t, 16>& urp_md5) {
  // Spend the nonce before anything can fail: a replay must never get a second try.
  if (spent_) return std::nullopt;
  spent_ = true;
  if (!check_fields(response).empty()) return std::nullopt;

  const detail::DigestMd5Inputs in{nonce_,       response.cnonce,     response.nc,
                                   response.qop, response.digest_uri, response.authzid};
  const auto expected = detail::digest_md5_response_hex(urp_md5, in);
  if (!crypto::constant_time_equal(expected, ascii::to_lower(response.response)))
    return std::nullopt;
  return "rspauth=" + detail::digest_md5_rspauth_hex(urp_md5, in);
}

std::optional<std::string> DigestMd5Server::verify(const DigestResponse& response,
                                                   const StoredCredentials& credentials) {
  if (credentials.realm != realm_) {
    spent_ = true;
    return std::nullopt;
  }
  return verify(response, credentials.digest_md5_urp);
}

}  // namespace tsp::auth
