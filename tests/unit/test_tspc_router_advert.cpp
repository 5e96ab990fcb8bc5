// Router advertisement bytes for the delegated prefix (RFC 4861 §4.2, §4.6.2, §4.6.4).
#include <catch2/catch.hpp>

#include "tools/tspc/router_advert.hpp"
#include "tools/tunnel/ipv6_packet.hpp"

using namespace tsp;
using namespace tsp::tspc;

TEST_CASE("router advertisement: header, prefix information, MTU, checksum", "[tspc][ra]") {
  const Ipv6Addr source = *Ipv6Addr::parse("fe80::1");
  const Ipv6Addr all_nodes = *Ipv6Addr::parse("ff02::1");
  RouterAdvertisement ra;
  ra.prefix = *Ipv6Prefix::parse("2001:db8:1:2::/64");
  const std::vector<uint8_t> m = build_router_advertisement(ra, source, all_nodes);
  const std::vector<uint8_t> expected = {
      134, 0, 0xAB, 0x13,         // type, code, checksum (computed independently)
      64, 0x00, 0, 90,            // cur hop limit, no M/O flags, router lifetime 90 s
      0, 0, 0, 0, 0, 0, 0, 0,     // reachable time, retrans timer: unspecified
      3, 4, 64, 0xC0,             // prefix information, 32 bytes, /64, L and A
      0, 0, 0x0E, 0x10,           // valid lifetime 3600
      0, 0, 0x07, 0x08,           // preferred lifetime 1800
      0, 0, 0, 0,                 // reserved
      0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0,
      5, 1, 0, 0, 0, 0, 0x05, 0x00,  // MTU 1280
  };
  CHECK(m == expected);
  // Summed with its own checksum the message verifies to zero.
  CHECK(tunnel::icmpv6_checksum(source, all_nodes, tunnel::Bytes(m.data(), m.size())) == 0);

  SECTION("the final advertisement withdraws the router and deprecates the prefix") {
    RouterAdvertisement last = ra;
    last.router_lifetime_s = 0;
    last.preferred_lifetime_s = 0;
    const std::vector<uint8_t> f = build_router_advertisement(last, source, all_nodes);
    CHECK(f[6] == 0);
    CHECK(f[7] == 0);
    CHECK(f[24] == 0);
    CHECK(f[27] == 0);
    CHECK(tunnel::icmpv6_checksum(source, all_nodes, tunnel::Bytes(f.data(), f.size())) == 0);
  }
  SECTION("host bits in the prefix are not advertised") {
    RouterAdvertisement dirty = ra;
    dirty.prefix.addr.bytes[15] = 1;
    CHECK(build_router_advertisement(dirty, source, all_nodes) == m);
  }
}

TEST_CASE("which /64 is advertised for a delegated prefix", "[tspc][ra]") {
  CHECK(advertised_prefix(*Ipv6Prefix::parse("2001:db8:1:2::/64")) == Ipv6Prefix::parse("2001:db8:1:2::/64"));
  CHECK(advertised_prefix(*Ipv6Prefix::parse("2001:db8:7::/48")) == Ipv6Prefix::parse("2001:db8:7::/64"));
  CHECK_FALSE(advertised_prefix(*Ipv6Prefix::parse("2001:db8::/80")));
}

TEST_CASE("router solicitations are recognised", "[tspc][ra]") {
  const uint8_t rs[] = {133, 0, 0x12, 0x34, 0, 0, 0, 0};
  CHECK(is_router_solicitation(rs));
  const uint8_t bad_code[] = {133, 1, 0, 0, 0, 0, 0, 0};
  CHECK_FALSE(is_router_solicitation(bad_code));
  CHECK_FALSE(is_router_solicitation(std::span<const uint8_t>(rs, 4)));
  const uint8_t echo[] = {128, 0, 0, 0, 0, 0, 0, 0};
  CHECK_FALSE(is_router_solicitation(echo));
}
