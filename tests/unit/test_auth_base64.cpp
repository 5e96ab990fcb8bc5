#include <catch2/catch.hpp>
#include <string>

#include "control/auth/base64.hpp"

using tsp::auth::base64_decode;
using tsp::auth::base64_encode;
using namespace std::string_literals;

TEST_CASE("base64 encodes the RFC 4648 test vectors", "[auth][base64]") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode("foob") == "Zm9vYg==");
  CHECK(base64_encode("fooba") == "Zm9vYmE=");
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
}

TEST_CASE("base64 decodes the RFC 4648 test vectors", "[auth][base64]") {
  CHECK(base64_decode("") == ""s);
  CHECK(base64_decode("Zg==") == "f"s);
  CHECK(base64_decode("Zm8=") == "fo"s);
  CHECK(base64_decode("Zm9v") == "foo"s);
  CHECK(base64_decode("Zm9vYg==") == "foob"s);
  CHECK(base64_decode("Zm9vYmE=") == "fooba"s);
  CHECK(base64_decode("Zm9vYmFy") == "foobar"s);
}

TEST_CASE("base64 round-trips every byte value and length", "[auth][base64]") {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t len = 0; len <= all.size(); ++len) {
    const auto data = all.substr(all.size() - len);  // lengths of every residue mod 3
    const auto decoded = base64_decode(base64_encode(data));
    REQUIRE(decoded.has_value());
    CHECK(*decoded == data);
  }
}

TEST_CASE("base64 ignores the line end and NUL the wire adds", "[auth][base64]") {
  CHECK(base64_decode("Zm9v\r\n") == "foo"s);
  CHECK(base64_decode("Zm9v\n") == "foo"s);
  CHECK(base64_decode("Zm9v\0"s) == "foo"s);
  CHECK(base64_decode("Zm9v\r\n\0"s) == "foo"s);
  CHECK(base64_decode("\r\n") == ""s);
}

TEST_CASE("base64 rejects anything not strictly canonical", "[auth][base64]") {
  CHECK_FALSE(base64_decode("Zm9"));           // missing padding
  CHECK_FALSE(base64_decode("Zg"));            // missing padding
  CHECK_FALSE(base64_decode("Zg="));           // short padding
  CHECK_FALSE(base64_decode("Zg==="));         // too much padding
  CHECK_FALSE(base64_decode("Z==="));          // three pad characters
  CHECK_FALSE(base64_decode("===="));          // padding only
  CHECK_FALSE(base64_decode("Zg==Zm9v"));      // padding in the middle
  CHECK_FALSE(base64_decode("Z=g="));          // '=' inside a group
  CHECK_FALSE(base64_decode("Zh=="));          // stray low bits after 'f'
  CHECK_FALSE(base64_decode("Zm9="));          // stray low bits after "fo"
  CHECK_FALSE(base64_decode("Zm 9v"));         // space
  CHECK_FALSE(base64_decode("Zm9v\r\nZm9v"));  // inner line break
  CHECK_FALSE(base64_decode("Zm9v\r"));        // lone CR
  CHECK_FALSE(base64_decode("Zm9v\r\n\r\n"));  // two line ends
  CHECK_FALSE(base64_decode("Zm9v\0\r\n"s));   // NUL before the line end
  CHECK_FALSE(base64_decode("ab-_"));          // URL-safe alphabet
  CHECK_FALSE(base64_decode("Zm9v\xff"));      // 8-bit byte
}

TEST_CASE("base64 refuses input over the size limit", "[auth][base64]") {
  const std::string at_limit(tsp::auth::kMaxBase64Input, 'A');
  CHECK(base64_decode(at_limit).has_value());
  CHECK_FALSE(base64_decode(at_limit + "AAAA"));
}
