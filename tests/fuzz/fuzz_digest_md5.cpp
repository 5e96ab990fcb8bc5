// Fuzz target: base64 decoding and the DIGEST-MD5 server (parse + verify) on raw and
// base64-decoded input, plus the client's challenge and rspauth parsing.
// Checks invariants besides "no crash": decoding is canonical (re-encoding round-trips),
// and a spent nonce never verifies again.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "control/auth/base64.hpp"
#include "control/auth/crypto.hpp"
#include "control/auth/digest_md5_client.hpp"
#include "control/auth/digest_md5_server.hpp"

namespace {

// The seed corpus carries valid responses for this realm, nonce and password, so the
// mutations reach verify()'s success path too.
constexpr const char* kRealm = "broker.example";
constexpr const char* kNonce = "3f2a9c0d4b5e6f708192a3b4c5d6e7f8";

void run_server(std::string_view text) {
  tsp::auth::DigestMd5Server server(kRealm, kNonce);
  auto parsed = server.parse_response(text);
  auto* response = std::get_if<tsp::auth::DigestResponse>(&parsed);
  if (response == nullptr) return;
  const auto urp = tsp::auth::crypto::md5(response->username + ":" + kRealm + ":s3cret");
  const auto first = server.verify(*response, urp);
  if (first && first->size() != 8 + 32) std::abort();
  if (server.verify(*response, urp)) std::abort();  // replay must fail
}

void run_client(std::string_view text) {
  auto r = tsp::auth::digest_md5_client_response(text, "alice", "s3cret", "127.0.0.1:3653",
                                                 "1700000000");
  if (auto* response = std::get_if<std::string>(&r)) {
    // Whatever challenge we answered, our own server must be able to read the answer.
    tsp::auth::DigestMd5Server reader(kRealm, kNonce);
    (void)reader.parse_response(*response);
  }
  (void)tsp::auth::digest_md5_client_check_rspauth(text, "realm=\"r\",nonce=\"n\"", "alice",
                                                   "s3cret", "h", "c");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  run_server(input);
  run_client(input);

  if (const auto decoded = tsp::auth::base64_decode(input)) {
    const auto again = tsp::auth::base64_decode(tsp::auth::base64_encode(*decoded));
    if (!again || *again != *decoded) std::abort();
    run_server(*decoded);
    run_client(*decoded);
  }
  return 0;
}
