#include <catch2/catch.hpp>

#include "control/address_pool.hpp"

using namespace tsp;

namespace {
Ipv6Prefix P(const char* s) { return *Ipv6Prefix::parse(s); }
}

TEST_CASE("a pool hands out blocks in order and then runs dry") {
  AddressPool pool("P", P("2001:db8:1::/126"), 128);
  CHECK(pool.capacity() == 4);
  pool.reserve(P("2001:db8:1::/128"));
  pool.reserve(P("2001:db8:1::1/128"));
  CHECK(pool.allocate(0) == P("2001:db8:1::2/128"));
  CHECK(pool.allocate(0) == P("2001:db8:1::3/128"));
  CHECK_FALSE(pool.allocate(0));
  CHECK(pool.used() == 2);
  CHECK(pool.free() == 0);
}

TEST_CASE("prefix pools carve /48 and /64 blocks") {
  AddressPool p48("P48", P("2001:db8:f100::/41"), 48);
  CHECK(p48.capacity() == 128);
  CHECK(p48.allocate(0) == P("2001:db8:f100::/48"));
  CHECK(p48.allocate(0) == P("2001:db8:f101::/48"));
  AddressPool p64("P64", P("2001:db8:f200::/48"), 64);
  CHECK(p64.capacity() == 65536);
  p64.allocate(0);
  CHECK(p64.allocate(0) == P("2001:db8:f200:1::/64"));
}

TEST_CASE("released blocks wait out their quarantine") {
  AddressPool pool("P", P("2001:db8:1::/127"), 128);
  auto a = pool.allocate(100);
  auto b = pool.allocate(100);
  REQUIRE(a);
  REQUIRE(b);
  CHECK_FALSE(pool.allocate(100));
  pool.release(*a, 200);
  CHECK(pool.quarantined() == 1);
  CHECK_FALSE(pool.allocate(150));  // still quarantined
  CHECK(pool.allocate(200) == a);
  CHECK(pool.quarantined() == 0);
}

TEST_CASE("claims restore store state and refuse what does not fit") {
  AddressPool pool("P", P("2001:db8:f200::/48"), 64);
  CHECK(pool.claim(P("2001:db8:f200:5::/64")));
  CHECK_FALSE(pool.claim(P("2001:db8:f200:5::/64")));  // twice
  CHECK_FALSE(pool.claim(P("2001:db8:f201::/64")));    // outside
  CHECK_FALSE(pool.claim(P("2001:db8:f200::/56")));    // wrong length
  CHECK(pool.in_use(P("2001:db8:f200:5::/64")));
  // Fresh allocation skips the claimed block.
  for (int i = 0; i < 5; ++i) pool.allocate(0);
  CHECK(pool.allocate(0) == P("2001:db8:f200:6::/64"));
}

TEST_CASE("quarantine reloaded from the store blocks fresh allocation until it ends") {
  AddressPool pool("P", P("2001:db8:1::/127"), 128);
  pool.quarantine(P("2001:db8:1::/128"), 500);
  CHECK(pool.allocate(0) == P("2001:db8:1::1/128"));
  CHECK_FALSE(pool.allocate(499));
  CHECK(pool.allocate(500) == P("2001:db8:1::/128"));
}

TEST_CASE("a block released without quarantine is not stuck behind a quarantined one") {
  AddressPool pool("P", P("2001:db8:1::/127"), 128);
  auto a = pool.allocate(0);
  auto b = pool.allocate(0);
  pool.release(*a, 3600);  // an expired tunnel's address
  pool.release(*b, 10);    // an offer never accepted
  CHECK(pool.allocate(10) == b);
  CHECK_FALSE(pool.allocate(10));
}
