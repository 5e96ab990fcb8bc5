// The admin socket's wire format, shared by tspbrokerd and tspctl: one JSON object per line
// each way. A request names a command and its arguments:
//   {"command":"tunnel","target":"alice"}
//   {"command":"user_add","name":"bob","password":"..."}
// A reply is {"ok":true,"result":{...}} or {"ok":false,"status":"not_found","error":"..."}.
// Parsing never throws and never trusts the peer: size, type and field checks come first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

namespace tsp::admin {

// A request line longer than this is refused (passwords and names are short).
inline constexpr size_t kMaxRequestBytes = 64 * 1024;
inline constexpr size_t kMaxNameBytes = 253;
inline constexpr size_t kMaxPasswordBytes = 1024;
inline constexpr size_t kMaxTargetBytes = 256;
// history: how many records one answer holds, and the latest time it may ask about
// (9999-12-31T23:59:59Z: what ISO 8601 can write with four digits).
inline constexpr uint32_t kDefaultHistoryLimit = 100;
inline constexpr uint32_t kMaxHistoryLimit = 10000;
inline constexpr int64_t kMaxHistoryTime = 253402300799;

enum class Command {
  Tunnels, Tunnel, Users, UserAdd, UserPasswd, UserDel, UserShow, Pools, Stats, Kick, Reload, Lockouts, Unlock,
  UnlockUser, Sources, History
};

std::string_view command_name(Command command);  // "user_add", ...
std::optional<Command> command_from_name(std::string_view name);

struct AdminRequest {
  Command command = Command::Stats;
  std::string target;    // tunnel, kick: user, IPv6 address, prefix or tunnel id; unlock: IPv4 address or "all";
                         // history: an IPv6 or IPv4 address (or `name` instead)
  std::string name;      // user_*, unlock_user, history: the user name
  std::string password;  // user_add, user_passwd
  std::optional<int64_t> at;                // history: only tunnels live at this unix time
  uint32_t limit = kDefaultHistoryLimit;    // history: at most this many records, newest first
};

struct RequestError {
  std::string message;
};

// Why a command did not succeed; tspctl turns each into its exit status.
enum class ErrorStatus { BadRequest, NotFound, Refused, PermissionDenied, Failed };
std::string_view status_name(ErrorStatus status);  // "bad_request", ...
std::optional<ErrorStatus> status_from_name(std::string_view name);

// Parses one request line (without its newline).
std::variant<AdminRequest, RequestError> parse_request(std::string_view line);
// The line tspctl sends (with its newline).
std::string encode_request(const AdminRequest& request);

// Reply lines, newline included. `result_json` is a serialized JSON value.
std::string encode_ok(const nlohmann::json& result);
std::string encode_ok_raw(std::string_view result_json);
std::string encode_error(ErrorStatus status, std::string_view message);

struct AdminReply {
  bool ok = false;
  nlohmann::json result;              // when ok
  ErrorStatus status = ErrorStatus::Failed;  // when !ok
  std::string error;                  // when !ok
};
// Parses a reply line; nullopt (with `why` set) when it is not a well-formed reply.
std::optional<AdminReply> parse_reply(std::string_view line, std::string& why);

// Serializes for the wire: invalid UTF-8 (a user name is bytes) becomes U+FFFD instead of
// throwing.
std::string to_wire_json(const nlohmann::json& value);

}  // namespace tsp::admin
