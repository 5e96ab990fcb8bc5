#include "control/admin/admin_protocol.hpp"

#include <array>
#include <utility>

namespace tsp::admin {

namespace {

using nlohmann::json;

constexpr std::array<std::pair<Command, std::string_view>, 16> kCommandNames{{
    {Command::Tunnels, "tunnels"},
    {Command::Tunnel, "tunnel"},
    {Command::Users, "users"},
    {Command::UserAdd, "user_add"},
    {Command::UserPasswd, "user_passwd"},
    {Command::UserDel, "user_del"},
    {Command::UserShow, "user_show"},
    {Command::Pools, "pools"},
    {Command::Stats, "stats"},
    {Command::Kick, "kick"},
    {Command::Reload, "reload"},
    {Command::Lockouts, "lockouts"},
    {Command::Unlock, "unlock"},
    {Command::UnlockUser, "unlock_user"},
    {Command::Sources, "sources"},
    {Command::History, "history"},
}};

constexpr std::array<std::pair<ErrorStatus, std::string_view>, 5> kStatusNames{{
    {ErrorStatus::BadRequest, "bad_request"},
    {ErrorStatus::NotFound, "not_found"},
    {ErrorStatus::Refused, "refused"},
    {ErrorStatus::PermissionDenied, "permission_denied"},
    {ErrorStatus::Failed, "failed"},
}};

// Which string arguments a command takes (all of them required).
struct Needs {
  bool target = false, name = false, password = false;
};

Needs needs_of(Command c) {
  switch (c) {
    case Command::Tunnel:
    case Command::Kick:
    case Command::Unlock:
      return {true, false, false};
    case Command::UserAdd:
    case Command::UserPasswd:
      return {false, true, true};
    case Command::UserDel:
    case Command::UserShow:
    case Command::UnlockUser:
      return {false, true, false};
    default:
      return {};
  }
}

// Reads field `key` of `obj` as a non-empty string of at most `max` bytes into `out`.
std::optional<std::string> take_string(const json& obj, const char* key, size_t max, std::string& out) {
  auto it = obj.find(key);
  if (it == obj.end()) return std::string("missing field '") + key + "'";
  if (!it->is_string()) return std::string("field '") + key + "' must be a string";
  const auto& s = it->get_ref<const std::string&>();
  if (s.empty()) return std::string("field '") + key + "' is empty";
  if (s.size() > max) return std::string("field '") + key + "' is longer than " + std::to_string(max) + " bytes";
  out = s;
  return std::nullopt;
}

// Reads the optional integer field `key` of `obj`, within [min, max], into `out`.
std::optional<std::string> take_integer(const json& obj, const char* key, int64_t min, int64_t max,
                                        std::optional<int64_t>& out) {
  auto it = obj.find(key);
  if (it == obj.end()) return std::nullopt;
  if (!it->is_number_integer()) return std::string("field '") + key + "' must be an integer";
  // Non-negative numbers parse as unsigned: one above INT64_MAX must not wrap into range.
  const bool in_range = it->is_number_unsigned()
                            ? it->get<uint64_t>() <= static_cast<uint64_t>(max) && it->get<int64_t>() >= min
                            : it->get<int64_t>() >= min && it->get<int64_t>() <= max;
  if (!in_range)
    return std::string("field '") + key + "' must be between " + std::to_string(min) + " and " + std::to_string(max);
  out = it->get<int64_t>();
  return std::nullopt;
}

// history: an address (`target`) or a user (`name`), exactly one; `at` and `limit` optional.
std::optional<std::string> take_history(const json& doc, AdminRequest& req) {
  for (const auto& [key, value] : doc.items())
    if (key != "command" && key != "target" && key != "name" && key != "at" && key != "limit")
      return "command 'history' takes no field '" + key.substr(0, 64) + "'";
  const bool by_address = doc.contains("target"), by_user = doc.contains("name");
  if (by_address == by_user) return std::string("command 'history' takes either 'target' (an address) or 'name'");
  auto problem = by_address ? take_string(doc, "target", kMaxTargetBytes, req.target)
                            : take_string(doc, "name", kMaxNameBytes, req.name);
  if (!problem) problem = take_integer(doc, "at", 0, kMaxHistoryTime, req.at);
  std::optional<int64_t> limit;
  if (!problem) problem = take_integer(doc, "limit", 1, kMaxHistoryLimit, limit);
  if (limit) req.limit = static_cast<uint32_t>(*limit);
  return problem;
}

}  // namespace

std::string_view command_name(Command command) {
  for (const auto& [c, n] : kCommandNames)
    if (c == command) return n;
  return "unknown";
}

std::optional<Command> command_from_name(std::string_view name) {
  for (const auto& [c, n] : kCommandNames)
    if (n == name) return c;
  return std::nullopt;
}

std::string_view status_name(ErrorStatus status) {
  for (const auto& [s, n] : kStatusNames)
    if (s == status) return n;
  return "failed";
}

std::optional<ErrorStatus> status_from_name(std::string_view name) {
  for (const auto& [s, n] : kStatusNames)
    if (n == name) return s;
  return std::nullopt;
}

std::variant<AdminRequest, RequestError> parse_request(std::string_view line) {
  if (line.size() > kMaxRequestBytes)
    return RequestError{"request longer than " + std::to_string(kMaxRequestBytes) + " bytes"};
  // No exceptions: a malformed line is answered, not thrown (the parser is iterative, so
  // deep nesting cannot exhaust the stack).
  const json doc = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return RequestError{"request is not valid JSON"};
  if (!doc.is_object()) return RequestError{"request must be a JSON object"};
  auto cmd = doc.find("command");
  if (cmd == doc.end() || !cmd->is_string()) return RequestError{"request has no 'command' string"};
  const auto command = command_from_name(cmd->get_ref<const std::string&>());
  if (!command) return RequestError{"unknown command '" + cmd->get_ref<const std::string&>().substr(0, 64) + "'"};

  AdminRequest req;
  req.command = *command;
  if (*command == Command::History) {
    if (auto problem = take_history(doc, req)) return RequestError{*problem};
    return req;
  }
  const Needs needs = needs_of(*command);
  for (const auto& [key, value] : doc.items()) {
    const bool known = key == "command" || (key == "target" && needs.target) || (key == "name" && needs.name) ||
                       (key == "password" && needs.password);
    if (!known)
      return RequestError{"command '" + std::string(command_name(*command)) + "' takes no field '" +
                          key.substr(0, 64) + "'"};
  }
  std::optional<std::string> problem;
  if (needs.target) problem = take_string(doc, "target", kMaxTargetBytes, req.target);
  if (!problem && needs.name) problem = take_string(doc, "name", kMaxNameBytes, req.name);
  if (!problem && needs.password) problem = take_string(doc, "password", kMaxPasswordBytes, req.password);
  if (problem) return RequestError{*problem};
  return req;
}

std::string encode_request(const AdminRequest& request) {
  json doc = {{"command", command_name(request.command)}};
  const Needs needs = needs_of(request.command);
  if (needs.target) doc["target"] = request.target;
  if (needs.name) doc["name"] = request.name;
  if (needs.password) doc["password"] = request.password;
  if (request.command == Command::History) {
    if (request.name.empty()) {
      doc["target"] = request.target;
    } else {
      doc["name"] = request.name;
    }
    if (request.at) doc["at"] = *request.at;
    doc["limit"] = request.limit;
  }
  return to_wire_json(doc) + "\n";
}

std::string to_wire_json(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string encode_ok(const json& result) { return encode_ok_raw(to_wire_json(result)); }

std::string encode_ok_raw(std::string_view result_json) {
  std::string line;
  line.reserve(result_json.size() + 24);
  line += R"({"ok":true,"result":)";
  line += result_json;
  line += "}\n";
  return line;
}

std::string encode_error(ErrorStatus status, std::string_view message) {
  const json doc = {{"ok", false}, {"status", status_name(status)}, {"error", message}};
  return to_wire_json(doc) + "\n";
}

std::optional<AdminReply> parse_reply(std::string_view line, std::string& why) {
  json doc = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    why = "the daemon's reply is not a JSON object";
    return std::nullopt;
  }
  auto ok = doc.find("ok");
  if (ok == doc.end() || !ok->is_boolean()) {
    why = "the daemon's reply has no 'ok' field";
    return std::nullopt;
  }
  AdminReply reply;
  reply.ok = ok->get<bool>();
  if (reply.ok) {
    auto result = doc.find("result");
    if (result == doc.end()) {
      why = "the daemon's reply has no 'result'";
      return std::nullopt;
    }
    reply.result = std::move(*result);
    return reply;
  }
  auto status = doc.find("status");
  auto error = doc.find("error");
  if (status == doc.end() || !status->is_string() || error == doc.end() || !error->is_string()) {
    why = "the daemon's error reply lacks 'status' or 'error'";
    return std::nullopt;
  }
  reply.status = status_from_name(status->get_ref<const std::string&>()).value_or(ErrorStatus::Failed);
  reply.error = error->get<std::string>();
  return reply;
}

}  // namespace tsp::admin
