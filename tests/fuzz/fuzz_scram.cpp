// Fuzz target: SCRAM-SHA-256 on raw and base64-decoded input, as the server's client-first
// parser, the server's client-final check, and the client's server-first and server-final
// checks. Invariants besides "no crash": what parses is what was sent, a spent server never
// verifies again, only the one right client-final (and server-final) is ever accepted.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "control/auth/base64.hpp"
#include "control/auth/make_credentials.hpp"
#include "control/auth/scram_client.hpp"
#include "control/auth/scram_server.hpp"

namespace {

using namespace tsp::auth;

// The RFC 7677 §3 exchange. The seed corpus carries its messages, so the mutations reach
// the success paths too.
constexpr std::string_view kUser = "user";
constexpr std::string_view kPassword = "pencil";
constexpr std::string_view kClientNonce = "rOprNGfwEbeRWgbNEkqO";
constexpr std::string_view kServerNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
constexpr std::string_view kClientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
constexpr std::string_view kServerFirst =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
constexpr std::string_view kClientFinal =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr std::string_view kServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
constexpr uint32_t kIterations = 4096;
// A mutated i= can ask the client for up to a million PBKDF2 rounds: past this, one input
// would cost more than thousands of others, so such inputs skip the client.
constexpr uint64_t kMaxFuzzIterations = 4096;

void check(bool ok) {
  if (!ok) std::abort();
}

struct Fixture {
  ScramClientFirst first;
  std::vector<uint8_t> salt;
  ScramKeys keys;
  ScramSha256Client answered;  // has answered kServerFirst with kClientFinal
};

const Fixture& fixture() {
  static const Fixture f = [] {
    auto parsed = parse_scram_client_first(kClientFirst);
    check(std::holds_alternative<ScramClientFirst>(parsed));
    const auto salt_text = base64_decode("W22ZaJ0SNY7soEsUEjb6gQ==");
    check(salt_text.has_value());
    std::vector<uint8_t> salt(salt_text->begin(), salt_text->end());
    const auto keys = derive_scram_keys(kPassword, salt, kIterations);
    ScramSha256Client answered{std::string(kUser), std::string(kPassword),
                               std::string(kClientNonce)};
    const auto client_final = answered.client_final(kServerFirst);
    check(std::holds_alternative<std::string>(client_final) &&
          std::get<std::string>(client_final) == kClientFinal);
    return Fixture{std::get<ScramClientFirst>(parsed), std::move(salt), keys,
                   std::move(answered)};
  }();
  return f;
}

void run_client_first(std::string_view text) {
  auto parsed = parse_scram_client_first(text);
  if (auto* failure = std::get_if<ScramFailure>(&parsed)) {
    check(!failure->reason.empty());
    return;
  }
  const auto& first = std::get<ScramClientFirst>(parsed);
  check(first.gs2_header + first.bare == text);
  check(!first.user.empty() && first.user.size() <= 255);
  check(first.client_nonce.size() >= 8 && first.client_nonce.size() <= 255);

  // Whatever was accepted, our own client can say it, and it reads back the same; a server
  // can be built on it, and it offers our nonce extended.
  const ScramSha256Client echo(first.user, "x", first.client_nonce);
  auto again = parse_scram_client_first(echo.client_first());
  const auto* same = std::get_if<ScramClientFirst>(&again);
  check(same != nullptr && same->user == first.user && same->client_nonce == first.client_nonce);
  const ScramSha256Server server(first, fixture().salt, kIterations, std::string(kServerNonce));
  check(server.user() == first.user);
  check(server.server_first().starts_with("r=" + first.client_nonce + std::string(kServerNonce) +
                                          ",s="));
}

void run_client_final(std::string_view text) {
  const auto& f = fixture();
  ScramSha256Server server(f.first, f.salt, kIterations, std::string(kServerNonce));
  check(server.server_first() == kServerFirst);
  auto verdict = server.verify_client_final(text, f.keys.stored_key, f.keys.server_key);
  check(server.spent());
  if (auto* server_final = std::get_if<std::string>(&verdict)) {
    check(server_final->size() == 46 && server_final->starts_with("v="));
    // Only the RFC client-final carries a valid proof for this exchange.
    check(text == kClientFinal && *server_final == kServerFinal);
  } else {
    check(!std::get<ScramFailure>(verdict).reason.empty());
  }
  check(std::holds_alternative<ScramFailure>(
      server.verify_client_final(text, f.keys.stored_key, f.keys.server_key)));
}

// The i= value the client would use, as far as a quick look can tell (0 when none).
uint64_t claimed_iterations(std::string_view text) {
  const size_t at = text.find(",i=");
  if (at == std::string_view::npos) return 0;
  uint64_t value = 0;
  for (size_t i = at + 3; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    value = value * 10 + static_cast<uint64_t>(text[i] - '0');
    if (value > kMaxFuzzIterations) return value;
  }
  return value;
}

void run_client(std::string_view text) {
  const auto& f = fixture();
  if (claimed_iterations(text) <= kMaxFuzzIterations) {
    ScramSha256Client client{std::string(kUser), std::string(kPassword),
                             std::string(kClientNonce)};
    auto result = client.client_final(text);
    if (auto* client_final = std::get_if<std::string>(&result)) {
      check(client_final->starts_with("c=biws,r=" + std::string(kClientNonce)));
      // ",p=" and 44 base64 characters of proof end it.
      check(client_final->size() > 47 &&
            client_final->substr(client_final->size() - 47, 3) == ",p=");
      check(text != kServerFirst || (*client_final == kClientFinal &&
                                     client.check_server_final(kServerFinal)));
    } else {
      check(!std::get<ScramFailure>(result).reason.empty());
      check(!client.check_server_final(kServerFinal));
    }
    check(std::holds_alternative<ScramFailure>(client.client_final(text)));  // single use
  }

  // Only the RFC ServerSignature, alone or followed by extensions, is accepted.
  if (f.answered.check_server_final(text))
    check(text.starts_with(kServerFinal) &&
          (text.size() == kServerFinal.size() || text[kServerFinal.size()] == ','));
}

void run_all(std::string_view text) {
  run_client_first(text);
  run_client_final(text);
  run_client(text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  run_all(input);
  if (const auto decoded = base64_decode(input)) run_all(*decoded);
  return 0;
}
