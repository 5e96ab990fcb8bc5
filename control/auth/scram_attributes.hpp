// The pieces of the SCRAM message grammar (RFC 5802 §5, §7) that the server and the client
// side share, so both read attribute lists, saslnames and nonces by the same rules.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tsp::auth {

// Why a SCRAM message was refused: fit for a log line, never the proof or the password.
struct ScramFailure {
  std::string reason;
};

namespace scram {

// No SCRAM message we send or accept is longer; a TSP line carries it base64-encoded.
inline constexpr size_t kMaxMessage = 2048;
inline constexpr size_t kMaxUser = 255;

struct Attribute {
  char name;
  std::string_view value;  // non-empty, a view into the message
};

// A reason when the message is over kMaxMessage bytes or holds a NUL (no SCRAM value may).
// `what` names the message in the reason, e.g. "client-first message".
std::optional<ScramFailure> check_message(std::string_view message, std::string_view what);

// Splits "x=value,y=value": every part must be one letter, '=' and a non-empty value.
std::variant<std::vector<Attribute>, ScramFailure> split_attributes(std::string_view message,
                                                                    std::string_view what);

// "m=" is a mandatory extension: we know none, so RFC 5802 §5.1 says fail.
std::optional<ScramFailure> refuse_mandatory(std::span<const Attribute> attributes);

// Extensions we ignore, but not one reusing a name RFC 5802 gives a meaning to (a repeated
// n= or r=, a p= before the end): such a message is ambiguous, not extended.
std::optional<ScramFailure> check_extensions(std::span<const Attribute> extensions,
                                             std::string_view what);

// RFC 5802 nonce: one or more printable ASCII characters (0x21-0x7E) other than ','.
bool is_nonce(std::string_view text);

// A reason when a decoded user name is too long or holds a control character.
std::optional<std::string> user_name_problem(std::string_view user);

// saslname: ',' travels as "=2C" and '=' as "=3D"; any other '=' makes it malformed.
std::string escape_saslname(std::string_view name);
std::optional<std::string> unescape_saslname(std::string_view text);

// Strict base64 of an attribute value: unlike base64_decode(), no trailing line end.
std::optional<std::string> decode_base64_value(std::string_view text);

}  // namespace scram
}  // namespace tsp::auth
