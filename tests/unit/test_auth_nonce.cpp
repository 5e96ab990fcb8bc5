#include <catch2/catch.hpp>
#include <set>
#include <string>

#include "control/auth/nonce.hpp"

TEST_CASE("make_nonce gives 32 lower-case hex characters", "[auth][nonce]") {
  for (int i = 0; i < 100; ++i) {
    const auto nonce = tsp::auth::make_nonce();
    REQUIRE(nonce.size() == 32);
    CHECK(nonce.find_first_not_of("0123456789abcdef") == std::string::npos);
  }
}

TEST_CASE("make_nonce does not repeat", "[auth][nonce]") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(tsp::auth::make_nonce());
  CHECK(seen.size() == 1000);
}
