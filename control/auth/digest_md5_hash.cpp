#include "control/auth/digest_md5_hash.hpp"

#include "control/auth/crypto.hpp"

namespace tsp::auth::detail {

namespace {

std::string kd_hex(const std::array<uint8_t, 16>& urp_md5, const DigestMd5Inputs& in,
                   std::string_view a2_prefix) {
  std::string a2(a2_prefix);
  a2.append(in.digest_uri);
  std::string kd = digest_md5_ha1_hex(urp_md5, in);
  kd.append(":").append(in.nonce).append(":").append(in.nc).append(":").append(in.cnonce);
  kd.append(":").append(in.qop).append(":").append(crypto::to_hex_lower(crypto::md5(a2)));
  return crypto::to_hex_lower(crypto::md5(kd));
}

}  // namespace

std::string digest_md5_ha1_hex(const std::array<uint8_t, 16>& urp_md5, const DigestMd5Inputs& in) {
  // The first 16 bytes of A1 are the raw MD5, not its hex: this is what lets the store
  // keep MD5(user:realm:password) instead of the password.
  std::string a1(crypto::as_chars(urp_md5));
  a1.append(":").append(in.nonce).append(":").append(in.cnonce);
  if (!in.authzid.empty()) a1.append(":").append(in.authzid);
  return crypto::to_hex_lower(crypto::md5(a1));
}

std::string digest_md5_response_hex(const std::array<uint8_t, 16>& urp_md5,
                                    const DigestMd5Inputs& in) {
  return kd_hex(urp_md5, in, "AUTHENTICATE:");
}

std::string digest_md5_rspauth_hex(const std::array<uint8_t, 16>& urp_md5,
                                   const DigestMd5Inputs& in) {
  return kd_hex(urp_md5, in, ":");
}

}  // namespace tsp::auth::detail
