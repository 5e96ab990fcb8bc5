#include <catch2/catch.hpp>
#include <string>

#include "control/auth/sasl_plain.hpp"

using tsp::auth::parse_sasl_plain;
using namespace std::string_literals;

TEST_CASE("PLAIN: gogoc's blob with empty authzid and CRLF", "[auth][plain]") {
  const auto msg = parse_sasl_plain("\0alice\0s3cret\r\n"s);
  REQUIRE(msg);
  CHECK(msg->authzid.empty());
  CHECK(msg->authcid == "alice");
  CHECK(msg->password == "s3cret");
}

TEST_CASE("PLAIN: two NULs with an authzid, no line end", "[auth][plain]") {
  const auto msg = parse_sasl_plain("admin\0alice\0pw"s);
  REQUIRE(msg);
  CHECK(msg->authzid == "admin");
  CHECK(msg->authcid == "alice");
  CHECK(msg->password == "pw");
}

TEST_CASE("PLAIN: one NUL when the framer ate the leading one", "[auth][plain]") {
  const auto msg = parse_sasl_plain("alice\0s3cret\r\n"s);
  REQUIRE(msg);
  CHECK(msg->authzid.empty());
  CHECK(msg->authcid == "alice");
  CHECK(msg->password == "s3cret");

  const auto bare = parse_sasl_plain("bob\0pw"s);
  REQUIRE(bare);
  CHECK(bare->authcid == "bob");
  CHECK(bare->password == "pw");
}

TEST_CASE("PLAIN: a NUL after the CRLF is tolerated", "[auth][plain]") {
  const auto msg = parse_sasl_plain("\0alice\0s3cret\r\n\0"s);
  REQUIRE(msg);
  CHECK(msg->authcid == "alice");
  CHECK(msg->password == "s3cret");
}

TEST_CASE("PLAIN: passwords keep spaces and 8-bit bytes", "[auth][plain]") {
  const auto msg = parse_sasl_plain("\0j\xc3\xbcrgen\0 a b \xe2\x82\xac \r\n"s);
  REQUIRE(msg);
  CHECK(msg->authcid == "j\xc3\xbcrgen");
  CHECK(msg->password == " a b \xe2\x82\xac ");
}

TEST_CASE("PLAIN: malformed blobs are refused", "[auth][plain]") {
  CHECK_FALSE(parse_sasl_plain(""));
  CHECK_FALSE(parse_sasl_plain("\r\n"));
  CHECK_FALSE(parse_sasl_plain("alice"));                 // no NUL
  CHECK_FALSE(parse_sasl_plain("alice s3cret\r\n"));      // no NUL
  CHECK_FALSE(parse_sasl_plain("\0\0alice\0pw"s));        // three NULs
  CHECK_FALSE(parse_sasl_plain("a\0b\0c\0d"s));           // three NULs
  CHECK_FALSE(parse_sasl_plain("\0\0pw"s));               // empty authcid
  CHECK_FALSE(parse_sasl_plain("\0pw"s));                 // empty authcid (1 NUL)
  CHECK_FALSE(parse_sasl_plain("\0alice\0"s));            // empty password
  CHECK_FALSE(parse_sasl_plain("\0alice\0\r\n"s));        // empty password
  CHECK_FALSE(parse_sasl_plain("alice\0pw\0"s));          // trailing NUL w/o CRLF
  CHECK_FALSE(parse_sasl_plain("\0alice\0pw\n"s));        // bare LF
  CHECK_FALSE(parse_sasl_plain("\0alice\0p\rw\r\n"s));    // embedded CR
  CHECK_FALSE(parse_sasl_plain("\0ali\nce\0pw"s));        // embedded LF
  CHECK_FALSE(parse_sasl_plain("\0alice\0pw\r\n\r\n"s));  // two line ends
  CHECK_FALSE(parse_sasl_plain("\0alice\0pw\r\n\0\0"s));  // two NULs after CRLF
}

TEST_CASE("PLAIN: length limits", "[auth][plain]") {
  const std::string user253(253, 'u'), pw255(255, 'p');
  CHECK(parse_sasl_plain("\0"s + user253 + "\0"s + pw255 + "\r\n"));
  CHECK(parse_sasl_plain(user253 + "\0"s + user253 + "\0"s + pw255));
  CHECK_FALSE(parse_sasl_plain("\0"s + user253 + "u\0"s + pw255));       // authcid 254
  CHECK_FALSE(parse_sasl_plain("\0"s + user253 + "\0"s + pw255 + "p"));  // password 256
  CHECK_FALSE(parse_sasl_plain(user253 + "z\0alice\0pw"s));              // authzid 254
}
