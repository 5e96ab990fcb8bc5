#include <arpa/inet.h>

#include <catch2/catch.hpp>
#include <random>

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

// to_string writes the text itself (inet_ntop is slow): it must write exactly what inet_ntop
// writes, which is what the store, the offers and the logs have always held.
TEST_CASE("addresses print exactly as inet_ntop prints them") {
  auto ntop4 = [](uint32_t v) {
    char buf[INET_ADDRSTRLEN];
    in_addr a{htonl(v)};
    return std::string(inet_ntop(AF_INET, &a, buf, sizeof buf));
  };
  auto ntop6 = [](const Ipv6Addr& a) {
    char buf[INET6_ADDRSTRLEN];
    return std::string(inet_ntop(AF_INET6, a.bytes.data(), buf, sizeof buf));
  };
  for (uint32_t v : {0u, 1u, 9u, 10u, 99u, 100u, 255u, 0x7F000001u, 0x0A00FF09u, 0xC0000201u, 0xFFFFFFFFu})
    CHECK(Ipv4Addr{v}.to_string() == ntop4(v));
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    const uint32_t v = rng();
    REQUIRE(Ipv4Addr{v}.to_string() == ntop4(v));
  }
  // Every address whose words are drawn from these: all placements of zero runs, ties
  // between runs, and the IPv4-compatible (::a.b.c.d) and IPv4-mapped (::ffff:a.b.c.d) forms.
  const uint16_t kWords[] = {0, 1, 0xFFFF, 0x0A0B};
  for (uint32_t n = 0; n < (1u << 16); ++n) {
    Ipv6Addr a;
    for (int w = 0; w < 8; ++w) {
      const uint16_t word = kWords[(n >> (2 * w)) & 3];
      a.bytes[2 * w] = static_cast<uint8_t>(word >> 8);
      a.bytes[2 * w + 1] = static_cast<uint8_t>(word);
    }
    REQUIRE(a.to_string() == ntop6(a));
  }
  for (int i = 0; i < 20000; ++i) {
    Ipv6Addr a;
    for (auto& b : a.bytes) b = static_cast<uint8_t>(rng() % 4 == 0 ? 0 : rng());
    REQUIRE(a.to_string() == ntop6(a));
  }
  CHECK(Ipv6Addr{}.to_string() == "::");
  CHECK(Ipv6Addr::parse("::ffff:192.0.2.1")->to_string() == "::ffff:192.0.2.1");
  CHECK(Ipv6Addr::parse("2001:db8:0:0:1:0:0:1")->to_string() == "2001:db8::1:0:0:1");
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
