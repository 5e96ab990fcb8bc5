#include "control/auth/scram_server.hpp"

#include <optional>
#include <stdexcept>

#include "control/auth/base64.hpp"
#include "control/auth/crypto.hpp"
#include "control/auth/make_credentials.hpp"

namespace tsp::auth {

namespace {

constexpr std::string_view kClientFirst = "client-first message";
constexpr std::string_view kClientFinal = "client-final message";
constexpr size_t kMinClientNonce = 8;
constexpr size_t kMaxClientNonce = 255;

ScramFailure malformed_gs2() { return {"malformed gs2 header"}; }

}  // namespace

std::variant<ScramClientFirst, ScramFailure> parse_scram_client_first(std::string_view decoded) {
  if (auto bad = scram::check_message(decoded, kClientFirst)) return std::move(*bad);

  // gs2-header = cbind-flag "," [ "a=" saslname ] ","
  if (decoded.starts_with("p=")) return ScramFailure{"channel binding is not supported"};
  if (!decoded.starts_with("n,") && !decoded.starts_with("y,")) return malformed_gs2();
  std::optional<std::string> authzid;
  size_t bare_at = 0;
  if (decoded.substr(2).starts_with(",")) {
    bare_at = 3;
  } else if (decoded.substr(2).starts_with("a=")) {
    const size_t comma = decoded.find(',', 4);
    if (comma == std::string_view::npos) return malformed_gs2();
    const auto value = decoded.substr(4, comma - 4);
    if (value.empty()) return ScramFailure{"empty value for a= in client-first message"};
    authzid = scram::unescape_saslname(value);
    if (!authzid) return ScramFailure{"malformed escape in a="};
    bare_at = comma + 1;
  } else {
    return malformed_gs2();
  }

  // client-first-message-bare = "n=" saslname ",r=" nonce ["," extensions]
  const auto bare = decoded.substr(bare_at);
  auto split = scram::split_attributes(bare, kClientFirst);
  if (auto* bad = std::get_if<ScramFailure>(&split)) return std::move(*bad);
  const auto& attrs = std::get<std::vector<scram::Attribute>>(split);
  if (auto bad = scram::refuse_mandatory(attrs)) return std::move(*bad);
  if (attrs[0].name != 'n') return ScramFailure{"client-first message does not start with n="};
  if (attrs.size() < 2 || attrs[1].name != 'r')
    return ScramFailure{"client-first message has no r= after n="};
  if (auto bad = scram::check_extensions(std::span(attrs).subspan(2), kClientFirst))
    return std::move(*bad);

  auto user = scram::unescape_saslname(attrs[0].value);
  if (!user) return ScramFailure{"malformed escape in n="};
  if (auto problem = scram::user_name_problem(*user)) return ScramFailure{std::move(*problem)};
  const auto nonce = attrs[1].value;
  if (!scram::is_nonce(nonce)) return ScramFailure{"client nonce is not printable ASCII"};
  if (nonce.size() < kMinClientNonce)
    return ScramFailure{"client nonce shorter than " + std::to_string(kMinClientNonce) +
                        " characters"};
  if (nonce.size() > kMaxClientNonce)
    return ScramFailure{"client nonce longer than " + std::to_string(kMaxClientNonce) +
                        " characters"};
  // We log in users, not administrators acting for them.
  if (authzid && *authzid != *user) return ScramFailure{"authorization identity differs"};

  return ScramClientFirst{std::move(*user), std::string(nonce),
                          std::string(decoded.substr(0, bare_at)), std::string(bare)};
}

std::vector<uint8_t> scram_fake_salt(std::span<const uint8_t> secret, std::string_view user) {
  if (secret.empty()) throw std::invalid_argument("SCRAM fake-salt secret must not be empty");
  const auto mac = crypto::hmac_sha256(secret, user);
  return {mac.begin(), mac.begin() + kScramSaltBytes};
}

ScramSha256Server::ScramSha256Server(ScramClientFirst first, std::vector<uint8_t> salt,
                                     uint32_t iterations, std::string server_nonce)
    : first_(std::move(first)) {
  if (salt.empty()) throw std::invalid_argument("SCRAM salt must not be empty");
  if (iterations == 0 || iterations > kMaxScramIterations)
    throw std::invalid_argument("SCRAM iteration count out of range");
  if (!scram::is_nonce(server_nonce))
    throw std::invalid_argument(
        "SCRAM server nonce must be non-empty printable ASCII without commas");
  // A hand-built ScramClientFirst must be what parsing its own text gives, or the
  // AuthMessage we sign would not be the one the client signed.
  const auto reparsed = parse_scram_client_first(first_.gs2_header + first_.bare);
  const auto* same = std::get_if<ScramClientFirst>(&reparsed);
  if (same == nullptr || *same != first_)
    throw std::invalid_argument("SCRAM client-first fields do not match their own message");

  expected_nonce_ = first_.client_nonce + server_nonce;
  server_first_ = "r=" + expected_nonce_ + ",s=" + base64_encode(crypto::as_chars(salt)) +
                  ",i=" + std::to_string(iterations);
  if (server_first_.size() > scram::kMaxMessage)
    throw std::invalid_argument("SCRAM server-first message would exceed 2048 bytes");
}

std::variant<std::string, ScramFailure> ScramSha256Server::verify_client_final(
    std::string_view decoded, const std::array<uint8_t, 32>& stored_key,
    const std::array<uint8_t, 32>& server_key) {
  // Spend the exchange before anything can fail: a replay must never get a second try.
  if (spent_) return ScramFailure{"SCRAM exchange already used"};
  spent_ = true;
  if (auto bad = scram::check_message(decoded, kClientFinal)) return std::move(*bad);

  // client-final-message = "c=" base64 ",r=" nonce ["," extensions] ",p=" base64
  auto split = scram::split_attributes(decoded, kClientFinal);
  if (auto* bad = std::get_if<ScramFailure>(&split)) return std::move(*bad);
  const auto& attrs = std::get<std::vector<scram::Attribute>>(split);
  if (auto bad = scram::refuse_mandatory(attrs)) return std::move(*bad);
  if (attrs[0].name != 'c') return ScramFailure{"client-final message does not start with c="};
  if (attrs[0].value != base64_encode(first_.gs2_header))
    return ScramFailure{"channel binding data does not match the gs2 header"};
  if (attrs.size() < 2 || attrs[1].name != 'r')
    return ScramFailure{"client-final message has no r= after c="};
  if (attrs[1].value != expected_nonce_) return ScramFailure{"nonce does not match"};
  if (attrs.size() < 3 || attrs.back().name != 'p')
    return ScramFailure{"client-final message does not end with p="};
  if (auto bad = scram::check_extensions(std::span(attrs).subspan(2, attrs.size() - 3),
                                         kClientFinal))
    return std::move(*bad);
  const auto proof = scram::decode_base64_value(attrs.back().value);
  if (!proof) return ScramFailure{"proof is not valid base64"};
  if (proof->size() != crypto::Sha256Digest{}.size())
    return ScramFailure{"proof is not 32 bytes"};

  // p= is last and no value holds ',', so the last ",p=" is where the proof starts.
  const auto without_proof = decoded.substr(0, decoded.rfind(",p="));
  std::string auth_message = first_.bare;
  auth_message.append(",").append(server_first_).append(",").append(without_proof);

  const auto client_signature = crypto::hmac_sha256(stored_key, auth_message);
  crypto::Sha256Digest client_key{};
  for (size_t i = 0; i < client_key.size(); ++i)
    client_key[i] = static_cast<uint8_t>(static_cast<uint8_t>((*proof)[i]) ^ client_signature[i]);
  if (!crypto::constant_time_equal(crypto::sha256(client_key), stored_key))
    return ScramFailure{"proof does not match the stored key"};

  return "v=" + base64_encode(crypto::as_chars(crypto::hmac_sha256(server_key, auth_message)));
}

}  // namespace tsp::auth
