#include "control/auth/make_credentials.hpp"

#include <climits>
#include <string>

#include "control/auth/crypto.hpp"

namespace tsp::auth {

ScramKeys derive_scram_keys(std::string_view password, std::span<const uint8_t> salt,
                            uint32_t iterations) {
  const auto salted = crypto::pbkdf2_sha256(password, salt, iterations);
  const auto client_key = crypto::hmac_sha256(salted, "Client Key");
  return {crypto::sha256(client_key), crypto::hmac_sha256(salted, "Server Key"), client_key};
}

StoredCredentials make_credentials(std::string_view user, std::string_view realm,
                                   std::string_view password) {
  StoredCredentials out;
  out.realm = std::string(realm);

  std::string urp;
  urp.reserve(user.size() + realm.size() + password.size() + 2);
  urp.append(user).append(":").append(realm).append(":").append(password);
  out.digest_md5_urp = crypto::md5(urp);

  out.scram_salt = crypto::random_bytes(kScramSaltBytes);
  out.scram_iterations = kScramIterations;
  const auto keys = derive_scram_keys(password, out.scram_salt, out.scram_iterations);
  out.scram_stored_key = keys.stored_key;
  out.scram_server_key = keys.server_key;
  return out;
}

bool verify_password(const StoredCredentials& credentials, std::string_view password) {
  if (credentials.scram_salt.empty() || credentials.scram_iterations == 0 ||
      credentials.scram_iterations > kMaxScramIterations || password.size() > INT_MAX)
    return false;
  const auto keys =
      derive_scram_keys(password, credentials.scram_salt, credentials.scram_iterations);
  return crypto::constant_time_equal(keys.stored_key, credentials.scram_stored_key);
}

}  // namespace tsp::auth
