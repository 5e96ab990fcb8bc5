// The admin socket's wire format: requests parsed strictly (sizes, types, fields), replies
// round-tripped, JSON text written by hand identical to what a JSON library reads.
#include <catch2/catch.hpp>

#include <string>
#include <variant>

#include "control/admin/admin_protocol.hpp"
#include "control/admin/json_text.hpp"

using namespace tsp::admin;
using nlohmann::json;

namespace {

AdminRequest parse_ok(const std::string& line) {
  auto r = parse_request(line);
  if (auto* e = std::get_if<RequestError>(&r)) FAIL("refused: " << e->message);
  return std::get<AdminRequest>(r);
}

std::string parse_error(const std::string& line) {
  auto r = parse_request(line);
  REQUIRE(std::holds_alternative<RequestError>(r));
  return std::get<RequestError>(r).message;
}

}  // namespace

TEST_CASE("every command survives encode and parse", "[admin][protocol]") {
  for (auto c : {Command::Tunnels, Command::Tunnel, Command::Users, Command::UserAdd, Command::UserPasswd,
                 Command::UserDel, Command::UserShow, Command::Pools, Command::Stats, Command::Kick,
                 Command::Reload, Command::Lockouts, Command::Unlock, Command::UnlockUser, Command::Sources}) {
    AdminRequest req;
    req.command = c;
    req.target = "alice";
    req.name = "bob";
    req.password = "pa\"ss\\word\n";
    const std::string line = encode_request(req);
    REQUIRE(line.back() == '\n');
    REQUIRE(line.find('\n') == line.size() - 1);  // one line, whatever the password holds
    const auto back = parse_ok(line.substr(0, line.size() - 1));
    CHECK(back.command == c);
    CHECK(command_from_name(command_name(c)) == c);
    if (c == Command::Tunnel || c == Command::Kick || c == Command::Unlock) CHECK(back.target == "alice");
    if (c == Command::UserAdd || c == Command::UserPasswd) CHECK(back.password == req.password);
    if (c == Command::UserDel || c == Command::UserShow || c == Command::UnlockUser) CHECK(back.name == "bob");
  }
}

TEST_CASE("malformed requests get a clear reason", "[admin][protocol]") {
  CHECK(parse_error("") == "request is not valid JSON");
  CHECK(parse_error("{\"command\":") == "request is not valid JSON");
  CHECK(parse_error("[1,2]") == "request must be a JSON object");
  CHECK(parse_error("{}") == "request has no 'command' string");
  CHECK(parse_error("{\"command\":7}") == "request has no 'command' string");
  CHECK(parse_error("{\"command\":\"format_disk\"}") == "unknown command 'format_disk'");
  CHECK(parse_error("{\"command\":\"tunnel\"}") == "missing field 'target'");
  CHECK(parse_error("{\"command\":\"tunnel\",\"target\":\"\"}") == "field 'target' is empty");
  CHECK(parse_error("{\"command\":\"kick\",\"target\":5}") == "field 'target' must be a string");
  CHECK(parse_error("{\"command\":\"stats\",\"target\":\"x\"}") == "command 'stats' takes no field 'target'");
  CHECK(parse_error("{\"command\":\"lockouts\",\"target\":\"x\"}") == "command 'lockouts' takes no field 'target'");
  CHECK(parse_error("{\"command\":\"unlock\"}") == "missing field 'target'");
  CHECK(parse_error("{\"command\":\"unlock_user\"}") == "missing field 'name'");
  CHECK(parse_error("{\"command\":\"unlock_user\",\"name\":\"a\",\"target\":\"x\"}") ==
        "command 'unlock_user' takes no field 'target'");
  CHECK(parse_error("{\"command\":\"user_add\",\"name\":\"a\"}") == "missing field 'password'");
  CHECK(parse_error("{\"command\":\"user_add\",\"name\":\"" + std::string(300, 'a') + "\",\"password\":\"p\"}") ==
        "field 'name' is longer than 253 bytes");
  CHECK(parse_error(std::string(kMaxRequestBytes + 1, ' ')) == "request longer than 65536 bytes");
  // Deep nesting is refused as a non-object, not by exhausting the stack.
  CHECK(parse_error(std::string(30000, '[') + std::string(30000, ']')) == "request must be a JSON object");
}

TEST_CASE("replies round-trip, errors carry their status", "[admin][protocol]") {
  std::string why;
  auto ok = parse_reply(encode_ok(json{{"a", 1}}), why);
  REQUIRE(ok);
  CHECK(ok->ok);
  CHECK(ok->result["a"] == 1);

  for (auto s : {ErrorStatus::BadRequest, ErrorStatus::NotFound, ErrorStatus::Refused,
                 ErrorStatus::PermissionDenied, ErrorStatus::Failed}) {
    auto err = parse_reply(encode_error(s, "no user 'x'"), why);
    REQUIRE(err);
    CHECK_FALSE(err->ok);
    CHECK(err->status == s);
    CHECK(err->error == "no user 'x'");
  }
  CHECK_FALSE(parse_reply("garbage", why));
  CHECK(why == "the daemon's reply is not a JSON object");
  CHECK_FALSE(parse_reply("{\"ok\":true}", why));
  CHECK_FALSE(parse_reply("{\"ok\":false,\"status\":\"x\"}", why));
}

TEST_CASE("hand-written JSON strings parse back to the same text", "[admin][protocol]") {
  for (std::string s : {std::string("plain"), std::string("quote\" back\\slash"), std::string("ctl\x01\x1f\x7f"),
                        std::string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80")}) {
    std::string out;
    append_json_string(out, s);
    CHECK(json::parse(out).get<std::string>() == s);
  }
  // Not UTF-8: each bad byte becomes U+FFFD, the rest stays.
  std::string out;
  append_json_string(out, "a\xff" "b\xc3" "c\xed\xa0\x80");
  CHECK(json::parse(out).get<std::string>() == "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
  // A DOM with the same bytes serializes for the wire without throwing.
  CHECK_NOTHROW(to_wire_json(json("x\xff")));
}
