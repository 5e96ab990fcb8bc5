#include "control/auth/scram_client.hpp"

#include <algorithm>
#include <span>
#include <stdexcept>
#include <vector>

#include "control/auth/base64.hpp"
#include "control/auth/make_credentials.hpp"

namespace tsp::auth {

namespace {

constexpr std::string_view kServerFirst = "server-first message";
constexpr std::string_view kServerFinal = "server-final message";
constexpr std::string_view kGs2Header = "n,,";
// Enough of a server's e= text for a log line.
constexpr size_t kMaxErrorText = 100;

// "e=<text>[,extensions]": the server's own reason, made safe for a log line.
ScramFailure server_error(std::string_view message) {
  auto text = message.substr(2);
  text = text.substr(0, std::min(text.find(','), kMaxErrorText));
  if (text.empty()) return {"server error without a reason"};
  std::string reason = "server error: ";
  for (char c : text) reason += c >= 0x20 && c <= 0x7e ? c : '?';
  return {reason};
}

// posit-number = %x31-39 *DIGIT, here within 1..kMaxScramIterations.
std::variant<uint32_t, ScramFailure> parse_iterations(std::string_view text) {
  const bool digits =
      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits || text.front() == '0')
    return ScramFailure{"iteration count is not a positive decimal number"};
  uint64_t value = 0;
  for (char c : text) {
    value = value * 10 + static_cast<uint64_t>(c - '0');
    if (value > kMaxScramIterations)
      return ScramFailure{"iteration count above " + std::to_string(kMaxScramIterations)};
  }
  return static_cast<uint32_t>(value);
}

std::span<const uint8_t> as_bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

}  // namespace

ScramSha256Client::ScramSha256Client(std::string user, std::string password,
                                     std::string client_nonce)
    : user_(std::move(user)),
      password_(std::move(password)),
      client_nonce_(std::move(client_nonce)) {
  if (user_.empty()) throw std::invalid_argument("SCRAM user name must not be empty");
  if (auto problem = scram::user_name_problem(user_))
    throw std::invalid_argument("SCRAM " + *problem);
  if (!scram::is_nonce(client_nonce_))
    throw std::invalid_argument(
        "SCRAM client nonce must be non-empty printable ASCII without commas");
}

std::string ScramSha256Client::client_first_bare() const {
  return "n=" + scram::escape_saslname(user_) + ",r=" + client_nonce_;
}

std::string ScramSha256Client::client_first() const {
  return std::string(kGs2Header) + client_first_bare();
}

std::variant<std::string, ScramFailure> ScramSha256Client::client_final(
    std::string_view server_first_decoded) {
  if (used_) return ScramFailure{"client-final message already built"};
  used_ = true;
  const auto message = server_first_decoded;
  if (auto bad = scram::check_message(message, kServerFirst)) return std::move(*bad);
  if (message.starts_with("e=")) return server_error(message);

  // server-first-message = "r=" nonce ",s=" base64 ",i=" posit-number ["," extensions]
  auto split = scram::split_attributes(message, kServerFirst);
  if (auto* bad = std::get_if<ScramFailure>(&split)) return std::move(*bad);
  const auto& attrs = std::get<std::vector<scram::Attribute>>(split);
  if (auto bad = scram::refuse_mandatory(attrs)) return std::move(*bad);
  if (attrs[0].name != 'r') return ScramFailure{"server-first message does not start with r="};
  const auto nonce = attrs[0].value;
  if (!scram::is_nonce(nonce)) return ScramFailure{"server nonce is not printable ASCII"};
  // The server must add its own part, or it could replay an old exchange of ours.
  if (!nonce.starts_with(client_nonce_) || nonce.size() == client_nonce_.size())
    return ScramFailure{"server nonce does not extend ours"};
  if (attrs.size() < 2 || attrs[1].name != 's')
    return ScramFailure{"server-first message has no s= after r="};
  const auto salt = scram::decode_base64_value(attrs[1].value);
  if (!salt || salt->empty()) return ScramFailure{"salt is not valid base64"};
  if (attrs.size() < 3 || attrs[2].name != 'i')
    return ScramFailure{"server-first message has no i= after s="};
  auto iterations = parse_iterations(attrs[2].value);
  if (auto* bad = std::get_if<ScramFailure>(&iterations)) return std::move(*bad);
  if (auto bad = scram::check_extensions(std::span(attrs).subspan(3), kServerFirst))
    return std::move(*bad);

  const auto keys = derive_scram_keys(password_, as_bytes(*salt), std::get<uint32_t>(iterations));
  std::string out = "c=" + base64_encode(kGs2Header) + ",r=" + std::string(nonce);
  std::string auth_message = client_first_bare();
  auth_message.append(",").append(message).append(",").append(out);

  const auto client_signature = crypto::hmac_sha256(keys.stored_key, auth_message);
  crypto::Sha256Digest proof{};
  for (size_t i = 0; i < proof.size(); ++i)
    proof[i] = static_cast<uint8_t>(keys.client_key[i] ^ client_signature[i]);
  server_signature_ = crypto::hmac_sha256(keys.server_key, auth_message);
  return out.append(",p=").append(base64_encode(crypto::as_chars(proof)));
}

bool ScramSha256Client::check_server_final(std::string_view server_final_decoded) const {
  if (!server_signature_) return false;
  // server-final-message = ("e=" text / "v=" base64) ["," extensions]
  if (scram::check_message(server_final_decoded, kServerFinal)) return false;
  auto split = scram::split_attributes(server_final_decoded, kServerFinal);
  const auto* attrs = std::get_if<std::vector<scram::Attribute>>(&split);
  if (attrs == nullptr || attrs->front().name != 'v') return false;
  if (scram::refuse_mandatory(*attrs) ||
      scram::check_extensions(std::span(*attrs).subspan(1), kServerFinal))
    return false;
  const auto verifier = scram::decode_base64_value(attrs->front().value);
  return verifier && crypto::constant_time_equal(as_bytes(*verifier), *server_signature_);
}

}  // namespace tsp::auth
