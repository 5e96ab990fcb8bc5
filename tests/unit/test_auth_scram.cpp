#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "control/auth/base64.hpp"
#include "control/auth/crypto.hpp"
#include "control/auth/make_credentials.hpp"
#include "control/auth/nonce.hpp"
#include "control/auth/scram_client.hpp"
#include "control/auth/scram_server.hpp"

using namespace tsp::auth;
using namespace std::string_literals;

namespace {

// RFC 7677 §3: the one published SCRAM-SHA-256 exchange.
constexpr const char* kUser = "user";
constexpr const char* kPassword = "pencil";
constexpr const char* kClientNonce = "rOprNGfwEbeRWgbNEkqO";
constexpr const char* kServerNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
constexpr const char* kFullNonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
constexpr const char* kSaltBase64 = "W22ZaJ0SNY7soEsUEjb6gQ==";
constexpr uint32_t kIterations = 4096;
constexpr const char* kClientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
constexpr const char* kServerFirst =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
constexpr const char* kClientFinal =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr const char* kServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

std::string repeat(std::string_view piece, size_t times) {
  std::string out;
  for (size_t i = 0; i < times; ++i) out += piece;
  return out;
}

std::vector<uint8_t> rfc_salt() {
  const auto text = base64_decode(kSaltBase64);
  REQUIRE(text);
  return {text->begin(), text->end()};
}

// PBKDF2 with 4096 iterations once, not in every test.
const ScramKeys& rfc_keys() {
  static const ScramKeys keys = derive_scram_keys(kPassword, rfc_salt(), kIterations);
  return keys;
}

ScramClientFirst first_ok(std::string_view text) {
  auto result = parse_scram_client_first(text);
  if (auto* err = std::get_if<ScramFailure>(&result)) FAIL("unexpected refusal: " << err->reason);
  return std::get<ScramClientFirst>(result);
}

std::string first_refusal(std::string_view text) {
  auto result = parse_scram_client_first(text);
  return std::holds_alternative<ScramFailure>(result) ? std::get<ScramFailure>(result).reason
                                                      : "(accepted)";
}

ScramSha256Server rfc_server(std::string_view client_first = kClientFirst) {
  return ScramSha256Server(first_ok(client_first), rfc_salt(), kIterations, kServerNonce);
}

// The server's verdict on a client-final message in the RFC exchange: the server-final
// message, or the reason prefixed with "refused: ".
std::string rfc_verdict(std::string_view client_final,
                        std::string_view client_first = kClientFirst) {
  auto server = rfc_server(client_first);
  auto result = server.verify_client_final(client_final, rfc_keys().stored_key,
                                           rfc_keys().server_key);
  if (auto* err = std::get_if<ScramFailure>(&result)) return "refused: " + err->reason;
  return std::get<std::string>(result);
}

std::string final_refusal(std::string_view client_final) {
  const auto verdict = rfc_verdict(client_final);
  return verdict.starts_with("refused: ") ? verdict.substr(9) : "(accepted)";
}

// The correct proof for a client-final message of the RFC exchange, computed here from
// ClientKey so that variants (extensions) can be tested with a valid proof.
std::string with_proof(const std::string& without_proof,
                       std::string_view client_first_bare = "n=user,r=rOprNGfwEbeRWgbNEkqO") {
  const auto auth_message =
      std::string(client_first_bare) + "," + kServerFirst + "," + without_proof;
  const auto signature = crypto::hmac_sha256(rfc_keys().stored_key, auth_message);
  crypto::Sha256Digest proof{};
  for (size_t i = 0; i < proof.size(); ++i)
    proof[i] = static_cast<uint8_t>(rfc_keys().client_key[i] ^ signature[i]);
  return without_proof + ",p=" + base64_encode(crypto::as_chars(proof));
}

std::string client_final_ok(ScramSha256Client& client, std::string_view server_first) {
  auto result = client.client_final(server_first);
  if (auto* err = std::get_if<ScramFailure>(&result)) FAIL("client refused: " << err->reason);
  return std::get<std::string>(result);
}

// A fresh RFC client's reason for refusing a server-first message.
std::string client_refusal(std::string_view server_first) {
  ScramSha256Client client(kUser, kPassword, kClientNonce);
  auto result = client.client_final(server_first);
  if (!std::holds_alternative<ScramFailure>(result)) return "(accepted)";
  CHECK_FALSE(client.check_server_final(kServerFinal));
  return std::get<ScramFailure>(result).reason;
}

// A client that has answered the RFC server-first message.
ScramSha256Client rfc_client_after_final() {
  ScramSha256Client client(kUser, kPassword, kClientNonce);
  REQUIRE(client_final_ok(client, kServerFirst) == kClientFinal);
  return client;
}

}  // namespace

TEST_CASE("SCRAM-SHA-256 reproduces the RFC 7677 example end to end", "[auth][scram]") {
  ScramSha256Client client(kUser, kPassword, kClientNonce);
  CHECK(client.client_first() == kClientFirst);

  const auto first = first_ok(client.client_first());
  CHECK(first.user == kUser);
  CHECK(first.client_nonce == kClientNonce);
  CHECK(first.gs2_header == "n,,");
  CHECK(first.bare == "n=user,r=rOprNGfwEbeRWgbNEkqO");

  ScramSha256Server server(first, rfc_salt(), kIterations, kServerNonce);
  CHECK(server.user() == kUser);
  CHECK(server.server_first() == kServerFirst);

  const auto client_final = client_final_ok(client, server.server_first());
  CHECK(client_final == kClientFinal);

  const auto keys = derive_scram_keys(kPassword, rfc_salt(), kIterations);
  CHECK_FALSE(server.spent());
  auto verdict = server.verify_client_final(client_final, keys.stored_key, keys.server_key);
  CHECK(server.spent());
  REQUIRE(std::holds_alternative<std::string>(verdict));
  CHECK(std::get<std::string>(verdict) == kServerFinal);
  CHECK(client.check_server_final(kServerFinal));
}

TEST_CASE("SCRAM-SHA-256 our client against our server over base64", "[auth][scram]") {
  const auto creds = make_credentials("alice", "broker.example", "correct horse");
  ScramSha256Client client("alice", "correct horse", make_nonce());

  auto wire = [](const std::string& text) {
    const auto decoded = base64_decode(base64_encode(text) + "\r\n");
    REQUIRE(decoded);
    return *decoded;
  };
  ScramSha256Server server(first_ok(wire(client.client_first())), creds.scram_salt,
                           creds.scram_iterations, make_nonce());
  CHECK(server.user() == "alice");
  const auto client_final = client_final_ok(client, wire(server.server_first()));
  auto verdict = server.verify_client_final(wire(client_final), creds.scram_stored_key,
                                            creds.scram_server_key);
  REQUIRE(std::holds_alternative<std::string>(verdict));
  const auto server_final = std::get<std::string>(verdict);
  CHECK(server_final.starts_with("v="));
  CHECK(server_final.size() == 46);
  CHECK(client.check_server_final(wire(server_final)));
}

TEST_CASE("SCRAM-SHA-256 wrong password fails with a reason", "[auth][scram]") {
  const auto creds = make_credentials("alice", "broker.example", "correct horse");
  ScramSha256Client client("alice", "correct horsE", make_nonce());
  ScramSha256Server server(first_ok(client.client_first()), creds.scram_salt,
                           creds.scram_iterations, make_nonce());
  const auto client_final = client_final_ok(client, server.server_first());
  auto verdict =
      server.verify_client_final(client_final, creds.scram_stored_key, creds.scram_server_key);
  REQUIRE(std::holds_alternative<ScramFailure>(verdict));
  const auto reason = std::get<ScramFailure>(verdict).reason;
  CHECK(reason == "proof does not match the stored key");
  CHECK(reason.find("correct") == std::string::npos);
  CHECK(server.spent());
}

TEST_CASE("SCRAM-SHA-256 server is single use", "[auth][scram]") {
  auto server = rfc_server();
  const auto& keys = rfc_keys();
  CHECK(std::holds_alternative<std::string>(
      server.verify_client_final(kClientFinal, keys.stored_key, keys.server_key)));
  auto replay = server.verify_client_final(kClientFinal, keys.stored_key, keys.server_key);
  REQUIRE(std::holds_alternative<ScramFailure>(replay));
  CHECK(std::get<ScramFailure>(replay).reason == "SCRAM exchange already used");

  // A failed first try spends it too: no second guess.
  auto guessed = rfc_server();
  CHECK(std::holds_alternative<ScramFailure>(
      guessed.verify_client_final("garbage", keys.stored_key, keys.server_key)));
  CHECK(guessed.spent());
  auto second = guessed.verify_client_final(kClientFinal, keys.stored_key, keys.server_key);
  REQUIRE(std::holds_alternative<ScramFailure>(second));
  CHECK(std::get<ScramFailure>(second).reason == "SCRAM exchange already used");

  // The same client-final replayed to another exchange (another server nonce) fails.
  ScramSha256Server other(first_ok(kClientFirst), rfc_salt(), kIterations, "another-nonce");
  auto elsewhere = other.verify_client_final(kClientFinal, keys.stored_key, keys.server_key);
  REQUIRE(std::holds_alternative<ScramFailure>(elsewhere));
  CHECK(std::get<ScramFailure>(elsewhere).reason == "nonce does not match");
}

TEST_CASE("SCRAM-SHA-256 client accepts only the right server-final", "[auth][scram]") {
  ScramSha256Client fresh(kUser, kPassword, kClientNonce);
  CHECK_FALSE(fresh.check_server_final(kServerFinal));  // before client_final()

  const auto client = rfc_client_after_final();
  CHECK(client.check_server_final(kServerFinal));
  CHECK(client.check_server_final(kServerFinal + ",x=extension"s));
  CHECK_FALSE(client.check_server_final("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G8="));
  CHECK_FALSE(client.check_server_final("v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="));
  CHECK_FALSE(client.check_server_final("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95A=="));
  CHECK_FALSE(client.check_server_final(kServerFinal + "\r\n"s));
  CHECK_FALSE(client.check_server_final(kServerFinal + ","s));
  CHECK_FALSE(client.check_server_final(kServerFinal + ",m=mandatory"s));
  CHECK_FALSE(client.check_server_final(kServerFinal + ","s + kServerFinal));
  CHECK_FALSE(client.check_server_final("x=1,"s + kServerFinal));
  CHECK_FALSE(client.check_server_final("e=invalid-proof"));
  CHECK_FALSE(client.check_server_final("v="));
  CHECK_FALSE(client.check_server_final(""));
  CHECK_FALSE(client.check_server_final(std::string(kServerFinal).substr(2)));

  // A client whose client_final() failed trusts nothing.
  ScramSha256Client refused(kUser, kPassword, kClientNonce);
  CHECK(std::holds_alternative<ScramFailure>(refused.client_final("e=other-error")));
  CHECK_FALSE(refused.check_server_final(kServerFinal));
}

TEST_CASE("SCRAM-SHA-256 client-first forms the server accepts", "[auth][scram]") {
  const auto y = first_ok("y,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  CHECK(y.gs2_header == "y,,");
  const auto authzid = first_ok("n,a=user,n=user,r=rOprNGfwEbeRWgbNEkqO");
  CHECK(authzid.gs2_header == "n,a=user,");
  CHECK(authzid.bare == "n=user,r=rOprNGfwEbeRWgbNEkqO");
  const auto escaped = first_ok("y,a=a=2Cb=3D,n=a=2Cb=3D,r=12345678");
  CHECK(escaped.user == "a,b=");
  CHECK(escaped.client_nonce == "12345678");
  const auto extended = first_ok("n,,n=user,r=rOprNGfwEbeRWgbNEkqO,x=some=value,Z=1");
  CHECK(extended.bare == "n=user,r=rOprNGfwEbeRWgbNEkqO,x=some=value,Z=1");
  CHECK(first_ok("n,,n=" + std::string(255, 'u') + ",r=12345678").user.size() == 255);
  CHECK(first_ok("n,,n=" + repeat("=2C", 255) + ",r=12345678").user == std::string(255, ','));
  CHECK(first_ok("n,,n=user,r=" + std::string(255, '~')).client_nonce.size() == 255);
  CHECK(first_ok("n,,n=\xc3\xa9t\xc3\xa9,r=12345678").user == "\xc3\xa9t\xc3\xa9");

  // Exactly 2048 bytes is fine.
  const std::string head = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO,x=";
  CHECK(first_ok(head + std::string(2048 - head.size(), 'a')).user == kUser);
}

TEST_CASE("SCRAM-SHA-256 client-first refusals", "[auth][scram]") {
  const std::string head = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO,x=";
  CHECK(first_refusal(head + std::string(2049 - head.size(), 'a')) ==
        "client-first message is longer than 2048 bytes");
  CHECK(first_refusal("n,,n=us\0er,r=rOprNGfwEbeRWgbNEkqO"s) ==
        "NUL byte in client-first message");

  // gs2 header
  CHECK(first_refusal("p=tls-unique,,n=user,r=rOprNGfwEbeRWgbNEkqO") ==
        "channel binding is not supported");
  for (const char* bad : {"", "n", "n,", "y", "p,,n=user,r=rOprNGfwEbeRWgbNEkqO",
                          "N,,n=user,r=rOprNGfwEbeRWgbNEkqO", "x,,n=user,r=rOprNGfwEbeRWgbNEkqO",
                          "n,n=user,r=rOprNGfwEbeRWgbNEkqO", "n,a=user", "n,A=user,n=user,r=x"}) {
    INFO(bad);
    CHECK(first_refusal(bad) == "malformed gs2 header");
  }
  CHECK(first_refusal("n,a=,n=user,r=rOprNGfwEbeRWgbNEkqO") ==
        "empty value for a= in client-first message");
  CHECK(first_refusal("n,a=us=er,n=user,r=rOprNGfwEbeRWgbNEkqO") == "malformed escape in a=");
  CHECK(first_refusal("n,a=admin,n=user,r=rOprNGfwEbeRWgbNEkqO") ==
        "authorization identity differs");
  CHECK(first_refusal("y,a=user=2C,n=user,r=rOprNGfwEbeRWgbNEkqO") ==
        "authorization identity differs");

  // Mandatory extensions, anywhere.
  CHECK(first_refusal("n,,m=ext,n=user,r=rOprNGfwEbeRWgbNEkqO") ==
        "mandatory extension m= is not supported");
  CHECK(first_refusal("n,,n=user,r=rOprNGfwEbeRWgbNEkqO,m=ext") ==
        "mandatory extension m= is not supported");

  // Missing, misplaced or repeated attributes.
  CHECK(first_refusal("n,,r=rOprNGfwEbeRWgbNEkqO,n=user") ==
        "client-first message does not start with n=");
  CHECK(first_refusal("n,,x=1,n=user,r=rOprNGfwEbeRWgbNEkqO") ==
        "client-first message does not start with n=");
  CHECK(first_refusal("n,,n=user") == "client-first message has no r= after n=");
  CHECK(first_refusal("n,,n=user,x=1,r=rOprNGfwEbeRWgbNEkqO") ==
        "client-first message has no r= after n=");
  CHECK(first_refusal("n,,n=user,r=rOprNGfwEbeRWgbNEkqO,r=again123") ==
        "unexpected attribute r= in client-first message");
  CHECK(first_refusal("n,,n=user,r=rOprNGfwEbeRWgbNEkqO,n=bob") ==
        "unexpected attribute n= in client-first message");
  CHECK(first_refusal("n,,n=user,r=rOprNGfwEbeRWgbNEkqO,p=AAAA") ==
        "unexpected attribute p= in client-first message");

  // Empty values and broken attribute syntax.
  CHECK(first_refusal("n,,n=,r=rOprNGfwEbeRWgbNEkqO") ==
        "empty value for n= in client-first message");
  CHECK(first_refusal("n,,n=user,r=") == "empty value for r= in client-first message");
  CHECK(first_refusal("n,,n=user,r=rOprNGfwEbeRWgbNEkqO,x=") ==
        "empty value for x= in client-first message");
  CHECK(first_refusal("n,,") == "malformed attribute in client-first message");
  CHECK(first_refusal("n,,,n=user,r=rOprNGfwEbeRWgbNEkqO") ==
        "malformed attribute in client-first message");
  CHECK(first_refusal("n,,n=user,r=rOprNGfwEbeRWgbNEkqO,") ==
        "malformed attribute in client-first message");
  CHECK(first_refusal("n,,n=user,r=rOprNGfwEbeRWgbNEkqO,ext=1") ==
        "malformed attribute in client-first message");
  CHECK(first_refusal("n,,n=user,,r=rOprNGfwEbeRWgbNEkqO") ==
        "malformed attribute in client-first message");
  CHECK(first_refusal("n,,1=user,r=rOprNGfwEbeRWgbNEkqO") ==
        "malformed attribute in client-first message");

  // saslname escapes: only =2C and =3D.
  for (const char* user : {"us=er", "us=2cer", "us=3d", "user=", "user=2", "=", "=3", "=41"}) {
    INFO(user);
    CHECK(first_refusal("n,,n="s + user + ",r=rOprNGfwEbeRWgbNEkqO") == "malformed escape in n=");
  }

  // User name rules.
  CHECK(first_refusal("n,,n=" + std::string(256, 'u') + ",r=rOprNGfwEbeRWgbNEkqO") ==
        "user name longer than 255 bytes");
  CHECK(first_refusal("n,,n=" + std::string(128, 'u') + repeat("=3D", 128) +
                      ",r=rOprNGfwEbeRWgbNEkqO") == "user name longer than 255 bytes");
  CHECK(first_refusal("n,,n=us\ter,r=rOprNGfwEbeRWgbNEkqO") ==
        "user name contains a control character");
  CHECK(first_refusal("n,,n=user\x7f,r=rOprNGfwEbeRWgbNEkqO") ==
        "user name contains a control character");
  CHECK(first_refusal("n,,n=us\r\ner,r=rOprNGfwEbeRWgbNEkqO") ==
        "user name contains a control character");

  // Client nonce rules.
  for (const char* nonce :
       {"rOpr NGfwEbeRWgbNEkqO", "rOprNGfw\x80\x81", "rOprNGfwEbeRWgbNEkqO\n"}) {
    INFO(nonce);
    CHECK(first_refusal("n,,n=user,r="s + nonce) == "client nonce is not printable ASCII");
  }
  CHECK(first_refusal("n,,n=user,r=1234567") == "client nonce shorter than 8 characters");
  CHECK(first_refusal("n,,n=user,r=" + std::string(256, 'n')) ==
        "client nonce longer than 255 characters");
}

TEST_CASE("SCRAM-SHA-256 client-final refusals", "[auth][scram]") {
  const std::string full = kFullNonce;
  const std::string proof = "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
  CHECK(final_refusal(kClientFinal) == "(accepted)");

  CHECK(final_refusal("c=biws,r=" + full + ",x=" + std::string(2048, 'a') + "," + proof) ==
        "client-final message is longer than 2048 bytes");
  CHECK(final_refusal("c=biws,r=" + full + ",x=\0,"s + proof) ==
        "NUL byte in client-final message");
  CHECK(final_refusal("") == "malformed attribute in client-final message");
  CHECK(final_refusal("c=biws,r=" + full + ",," + proof) ==
        "malformed attribute in client-final message");
  CHECK(final_refusal("c=,r=" + full + "," + proof) ==
        "empty value for c= in client-final message");
  CHECK(final_refusal("c=biws,r=" + full + ",p=") == "empty value for p= in client-final message");
  CHECK(final_refusal("c=biws,r=" + full + ",m=1," + proof) ==
        "mandatory extension m= is not supported");

  // Channel binding data: base64 of the gs2 header exactly.
  CHECK(final_refusal("r=" + full + ",c=biws," + proof) ==
        "client-final message does not start with c=");
  CHECK(final_refusal("c=eSws,r=" + full + "," + proof) ==
        "channel binding data does not match the gs2 header");
  CHECK(final_refusal("c=biwsCg==,r=" + full + "," + proof) ==
        "channel binding data does not match the gs2 header");
  CHECK(rfc_verdict(kClientFinal, "y,,n=user,r=rOprNGfwEbeRWgbNEkqO") ==
        "refused: channel binding data does not match the gs2 header");
  CHECK(rfc_verdict("c=eSws,r=" + full + "," + proof, "y,,n=user,r=rOprNGfwEbeRWgbNEkqO") ==
        "refused: proof does not match the stored key");  // header right, proof for n,,

  // Nonce: the client's and ours, exactly.
  CHECK(final_refusal("c=biws," + proof) == "client-final message has no r= after c=");
  CHECK(final_refusal("c=biws,x=1,r=" + full + "," + proof) ==
        "client-final message has no r= after c=");
  CHECK(final_refusal("c=biws,r=rOprNGfwEbeRWgbNEkqO," + proof) == "nonce does not match");
  CHECK(final_refusal("c=biws,r=" + full + "x," + proof) == "nonce does not match");
  CHECK(final_refusal("c=biws,r=" + full.substr(0, full.size() - 1) + "," + proof) ==
        "nonce does not match");

  // Proof: last, once, 32 bytes of strict base64.
  CHECK(final_refusal("c=biws,r=" + full) == "client-final message does not end with p=");
  CHECK(final_refusal("c=biws,r=" + full + "," + proof + ",x=1") ==
        "client-final message does not end with p=");
  CHECK(final_refusal("c=biws,r=" + full + ",p=AAAA," + proof) ==
        "unexpected attribute p= in client-final message");
  CHECK(final_refusal("c=biws,r=" + full + ",r=" + full + "," + proof) ==
        "unexpected attribute r= in client-final message");
  CHECK(final_refusal("c=biws,r=" + full + ",c=biws," + proof) ==
        "unexpected attribute c= in client-final message");
  CHECK(final_refusal("c=biws,r=" + full + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ") ==
        "proof is not valid base64");
  CHECK(final_refusal("c=biws,r=" + full + ",p=dHzbZapWIk4jUhN-Ute9ytag9zjfMHgsqmmiz7AndVQ=") ==
        "proof is not valid base64");
  CHECK(final_refusal("c=biws,r=" + full + "," + proof + "\r\n") == "proof is not valid base64");
  CHECK(final_refusal("c=biws,r=" + full + ",p=AAAA") == "proof is not 32 bytes");
  CHECK(final_refusal("c=biws,r=" + full + ",p=" + base64_encode(std::string(33, 'x'))) ==
        "proof is not 32 bytes");
  CHECK(final_refusal("c=biws,r=" + full + ",p=eHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=") ==
        "proof does not match the stored key");
}

TEST_CASE("SCRAM-SHA-256 extensions between r= and p= take part in AuthMessage",
          "[auth][scram]") {
  const auto extended = with_proof("c=biws,r="s + kFullNonce + ",x=ext=value,Y=2");
  const auto verdict = rfc_verdict(extended);
  CHECK(verdict.starts_with("v="));
  CHECK(verdict.size() == 46);
  CHECK(verdict != kServerFinal);

  // The RFC proof does not cover an added extension.
  CHECK(final_refusal("c=biws,r="s + kFullNonce +
                      ",x=1,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=") ==
        "proof does not match the stored key");
  // Sanity: our helper computes the RFC proof for the plain message.
  CHECK(with_proof("c=biws,r="s + kFullNonce) == kClientFinal);
}

TEST_CASE("SCRAM-SHA-256 client refuses bad server-first messages", "[auth][scram]") {
  const std::string full = kFullNonce;
  CHECK(client_refusal("r=" + full + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,x=" +
                       std::string(2048, 'a')) == "server-first message is longer than 2048 bytes");
  CHECK(client_refusal("r=" + full + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,x=\0"s) ==
        "NUL byte in server-first message");

  // Server errors keep their text, made printable.
  CHECK(client_refusal("e=invalid-proof") == "server error: invalid-proof");
  CHECK(client_refusal("e=other-error,x=1") == "server error: other-error");
  CHECK(client_refusal("e=bad\x01text\xff") == "server error: bad?text?");
  CHECK(client_refusal("e=") == "server error without a reason");
  CHECK(client_refusal("e=" + std::string(300, 'x')) == "server error: " + std::string(100, 'x'));

  CHECK(client_refusal("") == "malformed attribute in server-first message");
  CHECK(client_refusal("r=" + full + ",,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096") ==
        "malformed attribute in server-first message");
  CHECK(client_refusal("r=" + full + ",s=,i=4096") ==
        "empty value for s= in server-first message");
  CHECK(client_refusal("m=1,r=" + full + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096") ==
        "mandatory extension m= is not supported");
  CHECK(client_refusal("r=" + full + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,m=1") ==
        "mandatory extension m= is not supported");

  // Nonce: ours, extended by the server, printable.
  CHECK(client_refusal("s=W22ZaJ0SNY7soEsUEjb6gQ==,r=" + full + ",i=4096") ==
        "server-first message does not start with r=");
  CHECK(client_refusal("r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096") ==
        "server nonce does not extend ours");
  CHECK(client_refusal("r=xOprNGfwEbeRWgbNEkqO%hvYDp,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096") ==
        "server nonce does not extend ours");
  CHECK(client_refusal("r=rOprNGfwEbeRWgbNEkq,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096") ==
        "server nonce does not extend ours");
  CHECK(client_refusal("r=" + full + " x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096") ==
        "server nonce is not printable ASCII");
  CHECK(client_refusal("r=" + full + "\x7f,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096") ==
        "server nonce is not printable ASCII");

  // Salt.
  CHECK(client_refusal("r=" + full + ",i=4096,s=W22ZaJ0SNY7soEsUEjb6gQ==") ==
        "server-first message has no s= after r=");
  CHECK(client_refusal("r=" + full + ",s=W22ZaJ0SNY7soEsUEjb6gQ,i=4096") ==
        "salt is not valid base64");
  CHECK(client_refusal("r=" + full + ",s=W22ZaJ0SNY7s*EsUEjb6gQ==,i=4096") ==
        "salt is not valid base64");
  CHECK(client_refusal("r=" + full + ",s=====,i=4096") == "salt is not valid base64");

  // Iteration count: a positive decimal within kMaxScramIterations.
  CHECK(client_refusal("r=" + full + ",s=W22ZaJ0SNY7soEsUEjb6gQ==") ==
        "server-first message has no i= after s=");
  CHECK(client_refusal("r=" + full + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,x=1,i=4096") ==
        "server-first message has no i= after s=");
  for (const char* count :
       {"0", "-1", "+4096", "04096", "4096x", " 4096", "4096 ", "0x10", "4e3"}) {
    INFO(count);
    CHECK(client_refusal("r=" + full + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=" + count) ==
          "iteration count is not a positive decimal number");
  }
  for (const char* count : {"1000001", "4294967296", "99999999999999999999999999"}) {
    INFO(count);
    CHECK(client_refusal("r=" + full + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=" + count) ==
          "iteration count above 1000000");
  }
  CHECK(client_refusal("r=" + full + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,r=x") ==
        "unexpected attribute r= in server-first message");
  CHECK(client_refusal("r=" + full + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,i=1") ==
        "unexpected attribute i= in server-first message");

  // Extensions are ignored, but signed: the proof changes with them.
  ScramSha256Client extended(kUser, kPassword, kClientNonce);
  const auto with_ext = client_final_ok(extended, kServerFirst + ",x=ext"s);
  CHECK(with_ext.starts_with("c=biws,r="s + kFullNonce + ",p="));
  CHECK(with_ext != kClientFinal);
  ScramSha256Client tiny(kUser, kPassword, kClientNonce);
  CHECK(client_final_ok(tiny, "r=" + full + ",s=AA==,i=1").starts_with("c=biws,r="));

  // Single use.
  ScramSha256Client client(kUser, kPassword, kClientNonce);
  CHECK(client_final_ok(client, kServerFirst) == kClientFinal);
  auto again = client.client_final(kServerFirst);
  REQUIRE(std::holds_alternative<ScramFailure>(again));
  CHECK(std::get<ScramFailure>(again).reason == "client-final message already built");
  CHECK(client.check_server_final(kServerFinal));  // still the first exchange's answer
}

TEST_CASE("SCRAM-SHA-256 user names with ',' and '=' round-trip", "[auth][scram]") {
  for (const std::string user : {"a,b", "a=b", "=2C", ",=,=", "we=ird,,na=3Dme"}) {
    INFO(user);
    const auto creds = make_credentials(user, "broker.example", "pw");
    ScramSha256Client client(user, "pw", "clientnonce");
    CHECK(client.client_first().find(',', 3) == client.client_first().find(",r="));
    const auto first = first_ok(client.client_first());
    CHECK(first.user == user);
    ScramSha256Server server(first, creds.scram_salt, creds.scram_iterations, "servernonce");
    CHECK(server.user() == user);
    const auto client_final = client_final_ok(client, server.server_first());
    auto verdict =
        server.verify_client_final(client_final, creds.scram_stored_key, creds.scram_server_key);
    REQUIRE(std::holds_alternative<std::string>(verdict));
    CHECK(client.check_server_final(std::get<std::string>(verdict)));
  }
  CHECK(ScramSha256Client("a,b=c", "p", "nonce123").client_first() ==
        "n,,n=a=2Cb=3Dc,r=nonce123");
}

TEST_CASE("SCRAM-SHA-256 fake salt is deterministic per secret and user", "[auth][scram]") {
  const std::vector<uint8_t> secret(32, 0x5a);
  const std::vector<uint8_t> other_secret(32, 0xa5);
  const auto a = scram_fake_salt(secret, "alice");
  CHECK(a.size() == kScramSaltBytes);
  CHECK(a == scram_fake_salt(secret, "alice"));
  CHECK(a != scram_fake_salt(secret, "bob"));
  CHECK(a != scram_fake_salt(secret, "Alice"));
  CHECK(a != scram_fake_salt(other_secret, "alice"));
  const auto mac = crypto::hmac_sha256(secret, "alice");
  CHECK(std::equal(a.begin(), a.end(), mac.begin()));
  CHECK_THROWS_AS(scram_fake_salt({}, "alice"), std::invalid_argument);

  // A server with a fake salt looks like one with a real salt, and refuses any proof.
  ScramSha256Server server(first_ok("n,,n=nobody,r=12345678"), scram_fake_salt(secret, "nobody"),
                           kScramIterations, "servernonce");
  const auto fake = scram_fake_salt(secret, "nobody");
  CHECK(server.server_first() ==
        "r=12345678servernonce,s=" + base64_encode(crypto::as_chars(fake)) + ",i=4096");
  auto verdict = server.verify_client_final(
      "c=biws,r=12345678servernonce,p=" + base64_encode(std::string(32, 'x')),
      rfc_keys().stored_key, rfc_keys().server_key);
  REQUIRE(std::holds_alternative<ScramFailure>(verdict));
  CHECK(std::get<ScramFailure>(verdict).reason == "proof does not match the stored key");
}

TEST_CASE("SCRAM-SHA-256 constructors refuse our own bad arguments", "[auth][scram]") {
  CHECK_THROWS_AS(ScramSha256Client("", "pw", "nonce"), std::invalid_argument);
  CHECK_THROWS_AS(ScramSha256Client(std::string(256, 'u'), "pw", "nonce"), std::invalid_argument);
  CHECK_THROWS_AS(ScramSha256Client("us\ner", "pw", "nonce"), std::invalid_argument);
  CHECK_THROWS_AS(ScramSha256Client("us\0er"s, "pw", "nonce"), std::invalid_argument);
  CHECK_THROWS_AS(ScramSha256Client("user", "pw", ""), std::invalid_argument);
  CHECK_THROWS_AS(ScramSha256Client("user", "pw", "a,b"), std::invalid_argument);
  CHECK_THROWS_AS(ScramSha256Client("user", "pw", "a b"), std::invalid_argument);
  CHECK_THROWS_AS(ScramSha256Client("user", "pw", "n\xc3\xa9"), std::invalid_argument);
  CHECK_NOTHROW(ScramSha256Client(std::string(255, 'u'), "", "!"));

  const auto first = first_ok(kClientFirst);
  CHECK_THROWS_AS(ScramSha256Server(first, {}, kIterations, kServerNonce), std::invalid_argument);
  CHECK_THROWS_AS(ScramSha256Server(first, rfc_salt(), 0, kServerNonce), std::invalid_argument);
  CHECK_THROWS_AS(ScramSha256Server(first, rfc_salt(), kMaxScramIterations + 1, kServerNonce),
                  std::invalid_argument);
  CHECK_NOTHROW(ScramSha256Server(first, rfc_salt(), kMaxScramIterations, kServerNonce));
  CHECK_NOTHROW(ScramSha256Server(first, rfc_salt(), 1, kServerNonce));
  CHECK_THROWS_AS(ScramSha256Server(first, rfc_salt(), kIterations, ""), std::invalid_argument);
  CHECK_THROWS_AS(ScramSha256Server(first, rfc_salt(), kIterations, "a,b"),
                  std::invalid_argument);
  CHECK_THROWS_AS(ScramSha256Server(first, rfc_salt(), kIterations, "a\r\n"),
                  std::invalid_argument);
  CHECK_THROWS_AS(ScramSha256Server(first, std::vector<uint8_t>(1600, 1), kIterations, "nonce"),
                  std::invalid_argument);  // server-first over 2048 bytes

  // A hand-built client-first must match its own text.
  for (auto tweak : {+[](ScramClientFirst& f) { f.user = "admin"; },
                     +[](ScramClientFirst& f) { f.client_nonce = "otherNonce"; },
                     +[](ScramClientFirst& f) { f.gs2_header = "n,a=admin,"; },
                     +[](ScramClientFirst& f) { f.bare = "n=user,r=a,b"; },
                     +[](ScramClientFirst& f) { f = ScramClientFirst{}; }}) {
    auto forged = first;
    tweak(forged);
    CHECK_THROWS_AS(ScramSha256Server(forged, rfc_salt(), kIterations, kServerNonce),
                    std::invalid_argument);
  }
}

TEST_CASE("SCRAM-SHA-256 bad input never throws", "[auth][scram]") {
  const std::vector<std::string> inputs = {
      "", ",", "=", ",,", "n,,", "n,,n", "n,,n=", "n,,=", "e=", "v=", "p=", "c=", "r=",
      "\0"s, "n,,n=user,r=rOprNGfwEbeRWgbNEkqO\0"s, std::string(5000, 'a'),
      std::string(5000, ','), std::string(3000, '='), "c=biws,r=,p=", "r=x,s=y,i=z",
      "r=rOprNGfwEbeRWgbNEkqOx,s=\xff\xfe,i=1", "v=\xff", "e=\x00\x01"s, kClientFirst,
      kClientFinal, kServerFirst, kServerFinal, "a=b,c=d,e=f,g=h,i=j,k=l,m=n,o=p"};
  for (const auto& input : inputs) {
    INFO(input.size());
    CHECK_NOTHROW(parse_scram_client_first(input));
    auto server = rfc_server();
    CHECK_NOTHROW(server.verify_client_final(input, rfc_keys().stored_key, rfc_keys().server_key));
    ScramSha256Client client(kUser, kPassword, kClientNonce);
    CHECK_NOTHROW(client.client_final(input));
    CHECK_NOTHROW(client.check_server_final(input));
  }
}
