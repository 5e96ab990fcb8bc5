// IPv6 from the uplink into tunnels: every outer byte for both modes, the checks and their drop
// reasons, time exceeded and packet too big back to the sender.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tests/unit/dp_test_support.hpp"

using namespace tsp;
using namespace tsp::dp;
using namespace tsp::dp::test;

TEST_CASE("encap: /128, /64 and /48 destinations go into their tunnel, every outer byte", "[dp][encap]") {
  struct Case {
    TunnelEntry tunnel;
    const char* dst;
  };
  const std::vector<Case> cases = {
      {tunnels::proto41_host(), "2001:db8:f001:1::2"},
      {tunnels::proto41_slash64(), "2001:db8:f001:1::4"},
      {tunnels::proto41_slash64(), "2001:db8:20:1:ffff:ffff:ffff:ffff"},
      {tunnels::udp_slash48(), "2001:db8:30::"},
      {tunnels::udp_slash48(), "2001:db8:30:abcd:1::77"},
      {tunnels::udp_host(), "2001:db8:f001:1::8"},
  };
  for (const Case& c : cases) {
    INFO(describe(c.tunnel) << " to " << c.dst);
    PipelineHarness h;
    h.learn_gateways();
    h.ctx.next_ipv4_id = 0xFFFF;  // wraps
    const Bytes inner = udp6_packet(addrs::internet_host, v6(c.dst), 64, 200);
    const Outcome out = h.run(Side::Ipv6, uplink_in(inner));
    REQUIRE(out.verdict.kind == Verdict::Kind::Transmit);
    CHECK(out.verdict.out == Side::Ipv4);
    const Bytes expected = broker_tunnel_frame(c.tunnel, with_hop_limit(inner, 63), 0xFFFF);
    CHECK(hex(out.frame) == hex(expected));
    CHECK(h.ctx.next_ipv4_id == 0);
    CHECK(h.counters.encap.read() == 1);
    CHECK(h.only_drop(DropReason::malformed_ethernet, 0));
    TunnelStats stats;
    h.counters.add_tunnel_stats(c.tunnel.id, stats);
    CHECK(stats.packets_out == 1);
    CHECK(stats.bytes_out == inner.size());
    CHECK(stats.packets_in == 0);
  }
}

TEST_CASE("encap: the outer header is right field by field", "[dp][encap]") {
  PipelineHarness h;
  h.learn_gateways();
  h.ctx.next_ipv4_id = 0x1234;
  const TunnelEntry t = tunnels::udp_slash48();
  const Bytes inner = udp6_packet(addrs::internet_host, t.client_v6, 64, 3);
  const Outcome out = h.run(Side::Ipv6, uplink_in(inner));
  REQUIRE(out.frame.size() == 14 + 20 + 8 + inner.size());
  const uint8_t* ip = out.frame.data() + 14;
  CHECK(ip[0] == 0x45);                                          // version 4, no options
  CHECK(ip[1] == 0);                                             // TOS
  CHECK(static_cast<size_t>(ip[2] << 8 | ip[3]) == 20 + 8 + inner.size());  // total length
  CHECK((ip[4] << 8 | ip[5]) == 0x1234);                         // identification
  CHECK((ip[6] << 8 | ip[7]) == 0);                              // DF clear, not a fragment
  CHECK(ip[8] == 64);                                            // TTL
  CHECK(ip[9] == 17);                                            // UDP
  CHECK(internet_checksum(ip, 20) == 0);                         // header checksum holds
  CHECK(Bytes(ip + 12, ip + 16) == Bytes{192, 0, 2, 1});         // server_v4
  CHECK(Bytes(ip + 16, ip + 20) == Bytes{203, 0, 113, 30});      // client_v4
  const uint8_t* u = ip + 20;
  CHECK((u[0] << 8 | u[1]) == 3653);                             // from our TSP port
  CHECK((u[2] << 8 | u[3]) == 40000);                            // to the client's NAT mapping
  CHECK(static_cast<size_t>(u[4] << 8 | u[5]) == 8 + inner.size());
  CHECK((u[6] << 8 | u[7]) == 0);                                // no UDP checksum over IPv4
  CHECK((u[8] >> 4) == 6);
}

TEST_CASE("encap: uplink packets that must not enter a tunnel", "[dp][encap]") {
  struct Case {
    const char* name;
    const char* src;
    const char* dst;
    DropReason reason;
  };
  const std::vector<Case> cases = {
      {"no tunnel holds the destination", "2001:db8:beef::1", "2001:db8:dead::1", DropReason::no_route},
      {"just outside a /48", "2001:db8:beef::1", "2001:db8:31::1", DropReason::no_route},
      {"source claims a tunnel's /128", "2001:db8:f001:1::2", "2001:db8:f001:1::8", DropReason::inner_source_spoofed},
      {"source claims a tunnel's prefix", "2001:db8:30:5::1", "2001:db8:f001:1::8", DropReason::inner_source_spoofed},
      {"tunnel whose client is our own IPv4", "2001:db8:beef::1", "2001:db8:f001:1::c", DropReason::tunnel_loop},
      {"link-local source", "fe80::5", "2001:db8:f001:1::8", DropReason::link_local_or_multicast},
      {"multicast source", "ff02::1", "2001:db8:f001:1::8", DropReason::link_local_or_multicast},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    PipelineHarness h;
    h.learn_gateways();
    const Outcome out = h.run(Side::Ipv6, uplink_in(udp6_packet(v6(c.src), v6(c.dst), 64, 10)));
    CHECK(out.verdict.kind == Verdict::Kind::Drop);
    CHECK(out.verdict.reason == c.reason);
    CHECK(h.only_drop(c.reason));
    CHECK(out.extra.empty());
    CHECK(h.counters.icmp_errors.read() == 0);
  }
}

TEST_CASE("encap: a spoofed source gets no ICMPv6 error even with hop limit 1", "[dp][encap][icmp]") {
  PipelineHarness h;
  h.learn_gateways();
  const Bytes inner = udp6_packet(v6("2001:db8:f001:1::2"), v6("2001:db8:f001:1::8"), 1, 10);
  const Outcome out = h.run(Side::Ipv6, uplink_in(inner));
  CHECK(out.verdict.reason == DropReason::inner_source_spoofed);
  CHECK(h.counters.icmp_errors.read() == 0);
}

TEST_CASE("encap: hop limit 1 or 0 gets a time exceeded from the broker's address", "[dp][encap][icmp]") {
  for (const uint8_t hop_limit : {uint8_t{1}, uint8_t{0}}) {
    INFO("hop limit " << int{hop_limit});
    PipelineHarness h;
    h.learn_gateways();
    const Bytes inner = udp6_packet(addrs::internet_host, v6("2001:db8:30::1"), hop_limit, 100);
    const Outcome out = h.run(Side::Ipv6, uplink_in(inner));
    REQUIRE(out.verdict.kind == Verdict::Kind::Transmit);
    CHECK(out.verdict.out == Side::Ipv6);
    const Bytes error = icmpv6_error(addrs::broker_v6, addrs::internet_host, 3, 0, 0, inner);
    CHECK(hex(out.frame) == hex(uplink_out(error)));
    CHECK(ipv6_l4_checksum_ok(Bytes(out.frame.begin() + 14, out.frame.end())));
    CHECK(h.only_drop(DropReason::hop_limit_exceeded));
    CHECK(h.counters.icmp_errors.read() == 1);
    CHECK(h.counters.encap.read() == 0);
  }
}

TEST_CASE("encap: packets over the tunnel MTU get packet too big with that MTU", "[dp][encap][icmp]") {
  for (const uint16_t mtu : {uint16_t{1280}, uint16_t{1400}}) {
    INFO("tunnel mtu " << mtu);
    PipelineHarness h;
    h.learn_gateways();
    TunnelEntry t = tunnels::udp_slash48();
    t.mtu = mtu;
    REQUIRE(h.table.upsert(t));
    const Ipv6Addr dst = v6("2001:db8:30::1");

    // Exactly the MTU passes.
    const Bytes fits = udp6_packet(addrs::internet_host, dst, 64, mtu - 48);
    REQUIRE(fits.size() == mtu);
    Outcome out = h.run(Side::Ipv6, uplink_in(fits));
    CHECK(out.verdict.kind == Verdict::Kind::Transmit);
    CHECK(out.verdict.out == Side::Ipv4);

    // One byte more does not.
    const Bytes too_big = udp6_packet(addrs::internet_host, dst, 64, mtu - 47);
    out = h.run(Side::Ipv6, uplink_in(too_big));
    REQUIRE(out.verdict.kind == Verdict::Kind::Transmit);
    CHECK(out.verdict.out == Side::Ipv6);
    const Bytes error = icmpv6_error(addrs::broker_v6, addrs::internet_host, 2, 0, mtu, too_big);
    CHECK(error.size() == 1280);  // the quote is cut to fit the minimum MTU
    CHECK(hex(out.frame) == hex(uplink_out(error)));
    const Bytes sent(out.frame.begin() + 14, out.frame.end());
    CHECK(ipv6_l4_checksum_ok(sent));
    CHECK((sent[44] << 24 | sent[45] << 16 | sent[46] << 8 | sent[47]) == int{mtu});
    CHECK(Bytes(sent.begin() + 48, sent.end()) == Bytes(too_big.begin(), too_big.begin() + 1232));
    CHECK(h.only_drop(DropReason::too_big));
    CHECK(h.counters.encap.read() == 1);
  }
}

TEST_CASE("encap: no ICMPv6 error about an ICMPv6 error", "[dp][encap][icmp]") {
  PipelineHarness h;
  h.learn_gateways();
  const Bytes unreachable = icmpv6_packet(addrs::internet_host, v6("2001:db8:f001:1::8"), 1, 1, 0, Bytes(40, 0));
  const Outcome out = h.run(Side::Ipv6, uplink_in(unreachable));
  CHECK(out.verdict.kind == Verdict::Kind::Drop);
  CHECK(out.verdict.reason == DropReason::hop_limit_exceeded);
  CHECK(h.counters.icmp_errors.read() == 0);
  CHECK(hex(out.frame) == hex(uplink_in(unreachable)));  // untouched

  // An informational message (echo request) does get one.
  const Bytes echo = echo_request(addrs::internet_host, v6("2001:db8:f001:1::8"), 1, 2, {}, 1);
  CHECK(h.run(Side::Ipv6, uplink_in(echo)).verdict.kind == Verdict::Kind::Transmit);
  CHECK(h.counters.icmp_errors.read() == 1);
}

TEST_CASE("encap: ICMPv6 errors are rate limited per worker and second", "[dp][encap][icmp]") {
  PipelineHarness h;
  h.learn_gateways();
  h.ctx.icmp_budget.per_second = 2;
  const Bytes expiring = udp6_packet(addrs::internet_host, v6("2001:db8:f001:1::8"), 1, 10);
  std::vector<Verdict::Kind> kinds;
  for (int i = 0; i < 3; ++i) kinds.push_back(h.run(Side::Ipv6, uplink_in(expiring)).verdict.kind);
  h.ctx.now += 1;
  kinds.push_back(h.run(Side::Ipv6, uplink_in(expiring)).verdict.kind);
  using K = Verdict::Kind;
  CHECK(kinds == std::vector<K>{K::Transmit, K::Transmit, K::Drop, K::Transmit});
  CHECK(h.counters.icmp_errors.read() == 3);
  CHECK(h.only_drop(DropReason::hop_limit_exceeded, 4));
}

TEST_CASE("encap: malformed uplink packets", "[dp][encap]") {
  PipelineHarness h;
  const Bytes good = udp6_packet(addrs::internet_host, v6("2001:db8:f001:1::8"), 64, 10);
  SECTION("payload length past the frame") {
    const Outcome out = h.run(Side::Ipv6, uplink_in(Bytes(good.begin(), good.end() - 1)));
    CHECK(out.verdict.reason == DropReason::malformed_ipv6);
  }
  SECTION("version 4 in an IPv6 ethertype") {
    Bytes bad = good;
    bad[0] = 0x45;
    const Outcome out = h.run(Side::Ipv6, uplink_in(bad));
    CHECK(out.verdict.reason == DropReason::malformed_ipv6);
  }
  CHECK(h.only_drop(DropReason::malformed_ipv6));
}

TEST_CASE("encap: Ethernet padding is not carried into the tunnel", "[dp][encap]") {
  PipelineHarness h;
  h.learn_gateways();
  const TunnelEntry t = tunnels::proto41_host();
  const Bytes inner = ipv6(addrs::internet_host, t.client_v6, 59, 64, {});
  Bytes frame = uplink_in(inner);
  frame.resize(60 + 4, 0xAA);
  const Outcome out = h.run(Side::Ipv6, frame);
  REQUIRE(out.verdict.kind == Verdict::Kind::Transmit);
  CHECK(hex(out.frame) == hex(broker_tunnel_frame(t, with_hop_limit(inner, 63), 0)));
}

TEST_CASE("encap: without an IPv4 gateway, off-link clients are dropped", "[dp][encap]") {
  DataplaneConfig cfg = test_config();
  cfg.ipv4_gateway.reset();
  PipelineHarness h(cfg);
  const Outcome out = h.run(Side::Ipv6, uplink_in(udp6_packet(addrs::internet_host, v6("2001:db8:f001:1::2"), 64, 10)));
  CHECK(out.verdict.reason == DropReason::no_gateway);
  CHECK(h.only_drop(DropReason::no_gateway));
}

TEST_CASE("uplink: what goes to the IPv6 tap", "[dp][encap][exception]") {
  struct Case {
    const char* name;
    Bytes frame;
  };
  const std::vector<Case> cases = {
      {"to the broker's address", uplink_in(udp6_packet(addrs::internet_host, addrs::broker_v6, 64, 10))},
      {"to a link-local address", uplink_in(udp6_packet(v6("fe80::1"), v6("fe80::2"), 64, 10))},
      {"to all nodes", uplink_in(icmpv6_packet(v6("fe80::1"), v6("ff02::1"), 255, 134, 0, Bytes(12, 0)))},
      {"ARP on the uplink", ethernet(addrs::v6_port_mac, addrs::v6_gateway_mac, RTE_ETHER_TYPE_ARP, Bytes(28, 0))},
      {"IPv4 on the uplink", ethernet(addrs::v6_port_mac, addrs::v6_gateway_mac, RTE_ETHER_TYPE_IPV4, Bytes(20, 0))},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    PipelineHarness h;
    const Outcome out = h.run(Side::Ipv6, c.frame);
    CHECK(out.verdict.kind == Verdict::Kind::Exception);
    CHECK(out.verdict.out == Side::Ipv6);
    CHECK(hex(out.frame) == hex(c.frame));
    CHECK(h.counters.exception.read() == 1);
  }
}
