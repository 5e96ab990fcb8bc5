#include <catch2/catch.hpp>

#include "shared/net_types.hpp"

using namespace tsp;

TEST_CASE("IPv4 parses and prints in dotted quad") {
  auto a = Ipv4Addr::parse("192.0.2.1");
  REQUIRE(a);
  CHECK(a->value == 0xC0000201u);
  CHECK(a->to_string() == "192.0.2.1");
  CHECK_FALSE(Ipv4Addr::parse("192.0.2"));
  CHECK_FALSE(Ipv4Addr::parse("192.0.2.256"));
  CHECK_FALSE(Ipv4Addr::parse(""));
  CHECK_FALSE(Ipv4Addr::parse("1.2.3.4 "));
}

TEST_CASE("IPv6 prints compressed and fully expanded") {
  auto a = Ipv6Addr::parse("2001:db8::1");
  REQUIRE(a);
  CHECK(a->to_string() == "2001:db8::1");
  CHECK(a->to_expanded_string() == "2001:0db8:0000:0000:0000:0000:0000:0001");
  CHECK_FALSE(Ipv6Addr::parse("2001:db8::1::2"));
  CHECK_FALSE(Ipv6Addr::parse("not an address"));
}

TEST_CASE("prefixes reject host bits and contain what they should") {
  auto p = Ipv6Prefix::parse("2001:db8:f100::/41");
  REQUIRE(p);
  CHECK(p->len == 41);
  CHECK_FALSE(Ipv6Prefix::parse("2001:db8::1/64"));
  CHECK_FALSE(Ipv6Prefix::parse("2001:db8::/129"));
  CHECK_FALSE(Ipv6Prefix::parse("2001:db8::"));
  CHECK(p->contains(*Ipv6Addr::parse("2001:db8:f17f:ffff::1")));
  CHECK_FALSE(p->contains(*Ipv6Addr::parse("2001:db8:f180::1")));
}

TEST_CASE("sub-prefix numbering round-trips") {
  auto outer = *Ipv6Prefix::parse("2001:db8:f100::/41");
  auto third = nth_subprefix(outer, 48, 3);
  CHECK(third.to_string() == "2001:db8:f103::/48");
  CHECK(subprefix_index(outer, third) == 3);
  auto last = nth_subprefix(outer, 48, 127);
  CHECK(last.to_string() == "2001:db8:f17f::/48");

  auto hosts = *Ipv6Prefix::parse("2001:db8:f001:1::/64");
  auto h = nth_subprefix(hosts, 128, 0x1234);
  CHECK(h.addr.to_string() == "2001:db8:f001:1::1234");
  CHECK(subprefix_index(hosts, h) == 0x1234);

  auto wide = *Ipv6Prefix::parse("2001:db8::/32");
  auto n = nth_subprefix(wide, 64, 0xABCDEF01ull);
  CHECK(n.to_string() == "2001:db8:abcd:ef01::/64");
  CHECK(subprefix_index(wide, n) == 0xABCDEF01ull);
}
