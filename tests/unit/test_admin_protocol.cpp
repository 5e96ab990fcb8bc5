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
                 Command::Reload, Command::Lockouts, Command::Unlock, Command::UnlockUser, Command::Sources,
                 Command::History}) {
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
    if (c == Command::UserDel || c == Command::UserShow || c == Command::UnlockUser || c == Command::History)
      CHECK(back.name == "bob");
  }
}

TEST_CASE("history: an address or a user, a time and a limit", "[admin][protocol][history]") {
  auto req = parse_ok(R"({"command":"history","target":"2001:db8::1"})");
  CHECK(req.command == Command::History);
  CHECK(req.target == "2001:db8::1");
  CHECK(req.name.empty());
  CHECK_FALSE(req.at);
  CHECK(req.limit == kDefaultHistoryLimit);
  req = parse_ok(R"({"command":"history","name":"alice","at":1795183380,"limit":10000})");
  CHECK(req.name == "alice");
  CHECK(req.at == 1795183380);
  CHECK(req.limit == 10000);
  CHECK(parse_ok(R"({"command":"history","target":"x","at":0,"limit":1})").at == 0);
  CHECK(parse_ok(R"({"command":"history","target":"x","at":253402300799})").at == kMaxHistoryTime);

  // What tspctl sends comes back the same, the time and the limit with it.
  AdminRequest sent;
  sent.command = Command::History;
  sent.target = "198.51.100.7";
  sent.at = 1795183380;
  sent.limit = 7;
  const std::string line = encode_request(sent);
  CHECK(line == R"({"at":1795183380,"command":"history","limit":7,"target":"198.51.100.7"})" "\n");
  const auto back = parse_ok(line.substr(0, line.size() - 1));
  CHECK(back.target == sent.target);
  CHECK(back.at == sent.at);
  CHECK(back.limit == 7);
  sent.target.clear();
  sent.name = "alice";
  sent.at.reset();
  CHECK(encode_request(sent) == R"({"command":"history","limit":7,"name":"alice"})" "\n");
}

TEST_CASE("history: malformed arguments get a clear reason", "[admin][protocol][history]") {
  const std::string either = "command 'history' takes either 'target' (an address) or 'name'";
  CHECK(parse_error(R"({"command":"history"})") == either);
  CHECK(parse_error(R"({"command":"history","target":"2001:db8::1","name":"alice"})") == either);
  CHECK(parse_error(R"({"command":"history","at":5})") == either);
  CHECK(parse_error(R"({"command":"history","target":""})") == "field 'target' is empty");
  CHECK(parse_error(R"({"command":"history","name":7})") == "field 'name' must be a string");
  CHECK(parse_error(R"({"command":"history","target":")" + std::string(300, '1') + R"("})") ==
        "field 'target' is longer than 256 bytes");
  CHECK(parse_error(R"({"command":"history","target":"x","password":"p"})") ==
        "command 'history' takes no field 'password'");
  const std::string at_range = "field 'at' must be between 0 and 253402300799";
  CHECK(parse_error(R"({"command":"history","target":"x","at":"2026-11-20T14:03:00Z"})") ==
        "field 'at' must be an integer");
  CHECK(parse_error(R"({"command":"history","target":"x","at":1.5})") == "field 'at' must be an integer");
  CHECK(parse_error(R"({"command":"history","target":"x","at":null})") == "field 'at' must be an integer");
  CHECK(parse_error(R"({"command":"history","target":"x","at":-1})") == at_range);
  CHECK(parse_error(R"({"command":"history","target":"x","at":253402300800})") == at_range);
  // Above INT64_MAX: refused, not wrapped into range.
  CHECK(parse_error(R"({"command":"history","target":"x","at":18446744073709551615})") == at_range);
  const std::string limit_range = "field 'limit' must be between 1 and 10000";
  CHECK(parse_error(R"({"command":"history","target":"x","limit":0})") == limit_range);
  CHECK(parse_error(R"({"command":"history","target":"x","limit":10001})") == limit_range);
  CHECK(parse_error(R"({"command":"history","target":"x","limit":-3})") == limit_range);
  CHECK(parse_error(R"({"command":"history","target":"x","limit":true})") == "field 'limit' must be an integer");
  // Other commands take neither.
  CHECK(parse_error(R"({"command":"tunnels","at":5})") == "command 'tunnels' takes no field 'at'");
  CHECK(parse_error(R"({"command":"tunnel","target":"x","limit":5})") == "command 'tunnel' takes no field 'limit'");
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
