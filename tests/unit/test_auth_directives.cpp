#include <catch2/catch.hpp>
#include <string>
#include <variant>
#include <vector>

#include "control/auth/sasl_directives.hpp"

using tsp::auth::Directive;
using tsp::auth::parse_directives;
using tsp::auth::quote_directive_value;
using namespace std::string_literals;

namespace {

std::vector<Directive> parse_ok(std::string_view text) {
  auto result = parse_directives(text);
  if (auto* err = std::get_if<std::string>(&result)) FAIL("unexpected error: " << *err);
  return std::get<std::vector<Directive>>(result);
}

bool refused(std::string_view text) {
  return std::holds_alternative<std::string>(parse_directives(text));
}

}  // namespace

TEST_CASE("directives: bare and quoted values, names lower-cased", "[auth][directives]") {
  const auto d = parse_ok(R"(Realm="a b",NONCE=xyz,qop=auth)");
  REQUIRE(d.size() == 3);
  CHECK(d[0].name == "realm");
  CHECK(d[0].value == "a b");
  CHECK(d[1].name == "nonce");
  CHECK(d[1].value == "xyz");
  CHECK(d[2].name == "qop");
  CHECK(d[2].value == "auth");
}

TEST_CASE("directives: backslash escapes in quoted strings", "[auth][directives]") {
  const auto d = parse_ok(R"(username="a\"b\\c\d",x="")");
  REQUIRE(d.size() == 2);
  CHECK(d[0].value == "a\"b\\cd");
  CHECK(d[1].value.empty());
}

TEST_CASE("directives: spaces, tabs and empty elements are allowed", "[auth][directives]") {
  const auto d = parse_ok(" ,a = 1 ,\t, b=\"2,3\" ,, ");
  REQUIRE(d.size() == 2);
  CHECK(d[0].name == "a");
  CHECK(d[0].value == "1");
  CHECK(d[1].value == "2,3");
  CHECK(parse_ok("").empty());
}

TEST_CASE("directives: duplicates are reported, not judged", "[auth][directives]") {
  const auto d = parse_ok("realm=a,realm=b");
  REQUIRE(d.size() == 2);
  CHECK(d[1].value == "b");
}

TEST_CASE("directives: malformed lists are refused with a reason", "[auth][directives]") {
  CHECK(refused("a"));             // no '='
  CHECK(refused("a="));            // empty token
  CHECK(refused("=b"));            // no name
  CHECK(refused("a=b c=d"));       // missing comma
  CHECK(refused("a=\"open"));      // unterminated quote
  CHECK(refused("a=\"x\\"));       // escape at the end
  CHECK(refused("a=\"x\"y"));      // junk after quoted string
  CHECK(refused("a=b\r\n"));       // CR/LF are not LWS here
  CHECK(refused("a=\"x\ny\""));    // control character in quotes
  CHECK(refused("a=\"x\\\ny\""));  // escaped control character
  CHECK(refused("a=\"x\0y\""s));   // NUL
  CHECK(refused("a=x\xff"));       // 8-bit byte in a token
  CHECK(refused("a/b=c"));         // separator in a name
  CHECK(refused(std::string(tsp::auth::kMaxDirectiveText + 1, ',')));
  const auto err = std::get<std::string>(parse_directives("a=b c=d"));
  CHECK(err.find("byte 4") != std::string::npos);
}

TEST_CASE("directives: quoting escapes quote and backslash only", "[auth][directives]") {
  CHECK(quote_directive_value("plain") == "\"plain\"");
  CHECK(quote_directive_value("a\"b\\c") == R"("a\"b\\c")");
  const auto d = parse_ok("v=" + quote_directive_value("x\"\\y, z"));
  REQUIRE(d.size() == 1);
  CHECK(d[0].value == "x\"\\y, z");
}
