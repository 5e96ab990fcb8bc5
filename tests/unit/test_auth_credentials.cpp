#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <catch2/catch.hpp>
#include <string>

#include "control/auth/make_credentials.hpp"

using tsp::auth::make_credentials;
using tsp::auth::verify_password;

TEST_CASE("make_credentials stores MD5(user:realm:password) raw for DIGEST-MD5",
          "[auth][credentials]") {
  const auto creds = make_credentials("chris", "elwood.innosoft.com", "secret");
  CHECK(creds.realm == "elwood.innosoft.com");
  // md5("chris:elwood.innosoft.com:secret") = eb5a750053e4d2c34aa84bbc9b0b6ee7.
  const std::array<uint8_t, 16> expected{0xeb, 0x5a, 0x75, 0x00, 0x53, 0xe4, 0xd2, 0xc3,
                                         0x4a, 0xa8, 0x4b, 0xbc, 0x9b, 0x0b, 0x6e, 0xe7};
  CHECK(creds.digest_md5_urp == expected);
}

TEST_CASE("make_credentials derives SCRAM-SHA-256 keys as RFC 5802 says", "[auth][credentials]") {
  const auto creds = make_credentials("user", "realm", "pencil");
  REQUIRE(creds.scram_salt.size() == 16);
  REQUIRE(creds.scram_iterations == 4096);

  // Recompute with OpenSSL's own HMAC() one-shot, independent of the code under test.
  unsigned char salted[32];
  REQUIRE(PKCS5_PBKDF2_HMAC("pencil", 6, creds.scram_salt.data(),
                            static_cast<int>(creds.scram_salt.size()), 4096, EVP_sha256(), 32,
                            salted) == 1);
  unsigned char client_key[32], server_key[32], stored_key[32];
  unsigned int len = 0;
  REQUIRE(HMAC(EVP_sha256(), salted, 32, reinterpret_cast<const unsigned char*>("Client Key"), 10,
               client_key, &len) != nullptr);
  REQUIRE(HMAC(EVP_sha256(), salted, 32, reinterpret_cast<const unsigned char*>("Server Key"), 10,
               server_key, &len) != nullptr);
  REQUIRE(EVP_Digest(client_key, 32, stored_key, &len, EVP_sha256(), nullptr) == 1);

  CHECK(std::equal(creds.scram_stored_key.begin(), creds.scram_stored_key.end(), stored_key));
  CHECK(std::equal(creds.scram_server_key.begin(), creds.scram_server_key.end(), server_key));
}

TEST_CASE("verify_password accepts the right password only", "[auth][credentials]") {
  const auto creds = make_credentials("alice", "tsp.example", "correct horse");
  CHECK(verify_password(creds, "correct horse"));
  CHECK_FALSE(verify_password(creds, "correct horsE"));
  CHECK_FALSE(verify_password(creds, "correct horse "));
  CHECK_FALSE(verify_password(creds, ""));
}

TEST_CASE("salts differ between users, even with the same password", "[auth][credentials]") {
  const auto a = make_credentials("alice", "tsp.example", "same");
  const auto b = make_credentials("bob", "tsp.example", "same");
  CHECK(a.scram_salt != b.scram_salt);
  CHECK(a.scram_stored_key != b.scram_stored_key);
  CHECK(a.digest_md5_urp != b.digest_md5_urp);
  // A record does not accept the other user's password by accident of equal keys.
  CHECK(verify_password(a, "same"));
  CHECK(verify_password(b, "same"));
}

TEST_CASE("verify_password refuses records without usable SCRAM keys", "[auth][credentials]") {
  tsp::StoredCredentials empty;
  CHECK_FALSE(verify_password(empty, ""));
  CHECK_FALSE(verify_password(empty, "anything"));

  auto no_salt = make_credentials("alice", "tsp.example", "pw");
  no_salt.scram_salt.clear();
  CHECK_FALSE(verify_password(no_salt, "pw"));

  auto no_iterations = make_credentials("alice", "tsp.example", "pw");
  no_iterations.scram_iterations = 0;
  CHECK_FALSE(verify_password(no_iterations, "pw"));

  auto absurd_iterations = make_credentials("alice", "tsp.example", "pw");
  absurd_iterations.scram_iterations = 0xffffffffu;
  CHECK_FALSE(verify_password(absurd_iterations, "pw"));

  auto tampered_key = make_credentials("alice", "tsp.example", "pw");
  tampered_key.scram_stored_key[0] ^= 1;
  CHECK_FALSE(verify_password(tampered_key, "pw"));
}
