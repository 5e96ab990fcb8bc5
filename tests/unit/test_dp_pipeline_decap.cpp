// Tunnel data from clients (IPv4 port): decapsulation for every tunnel kind, the checks and
// their drop reasons, keepalives, hop limit errors, last-seen stamps.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tests/unit/dp_test_support.hpp"

using namespace tsp;
using namespace tsp::dp;
using namespace tsp::dp::test;

namespace {

const Ipv6Addr kServerV6 = v6("2001:db8:f001:1::1");

struct DecapCase {
  std::string name;
  TunnelEntry tunnel;
  Ipv6Addr inner_src;
};

std::vector<DecapCase> decap_cases() {
  return {
      {"proto 41, /128", tunnels::proto41_host(), v6("2001:db8:f001:1::2")},
      {"proto 41, /64 client address", tunnels::proto41_slash64(), v6("2001:db8:f001:1::4")},
      {"proto 41, /64 inside the prefix", tunnels::proto41_slash64(), v6("2001:db8:20:1:abcd::99")},
      {"UDP, /48 inside the prefix", tunnels::udp_slash48(), v6("2001:db8:30:ffff::1")},
      {"UDP, /48 client address", tunnels::udp_slash48(), v6("2001:db8:f001:1::6")},
      {"UDP, /128", tunnels::udp_host(), v6("2001:db8:f001:1::8")},
  };
}

}  // namespace

TEST_CASE("decap: every tunnel kind reaches the uplink gateway, hop limit decremented once", "[dp][decap]") {
  for (const DecapCase& c : decap_cases()) {
    INFO(c.name);
    PipelineHarness h;
    h.learn_gateways();
    const Bytes inner = udp6_packet(c.inner_src, addrs::internet_host, 64, 100);
    const Outcome out = h.run(Side::Ipv4, client_frame(c.tunnel, inner));
    REQUIRE(out.verdict.kind == Verdict::Kind::Transmit);
    CHECK(out.verdict.out == Side::Ipv6);
    CHECK(hex(out.frame) == hex(uplink_out(with_hop_limit(inner, 63))));
    CHECK(out.extra.empty());
    CHECK(h.counters.decap.read() == 1);
    CHECK(h.only_drop(DropReason::malformed_ethernet, 0));
    TunnelStats stats;
    h.counters.add_tunnel_stats(c.tunnel.id, stats);
    CHECK(stats.packets_in == 1);
    CHECK(stats.bytes_in == inner.size());
    CHECK(stats.packets_out == 0);
    CHECK(h.table.last_seen(c.tunnel.id) == h.ctx.now);
  }
}

TEST_CASE("decap: outer headers with options, Ethernet padding and trailing bytes", "[dp][decap]") {
  PipelineHarness h;
  h.learn_gateways();
  const TunnelEntry t = tunnels::proto41_host();
  const Bytes inner = ipv6(t.client_v6, addrs::internet_host, 59, 9, {});  // 40 bytes, no next header

  SECTION("IPv4 options and Ethernet padding to 60 bytes plus") {
    Ipv4Header outer;
    outer.src = t.client_v4;
    outer.dst = addrs::broker_v4;
    outer.options = {0x01, 0x01, 0x01, 0x00};  // NOP NOP NOP EOL
    Bytes frame = ethernet(addrs::v4_port_mac, addrs::v4_gateway_mac, RTE_ETHER_TYPE_IPV4, ipv4(outer, inner));
    frame.resize(frame.size() + 10, 0);  // padding past the IPv4 total length
    const Outcome out = h.run(Side::Ipv4, frame);
    REQUIRE(out.verdict.kind == Verdict::Kind::Transmit);
    CHECK(hex(out.frame) == hex(uplink_out(with_hop_limit(inner, 8))));
  }
  SECTION("bytes after the inner packet inside the outer payload are cut") {
    const Outcome out = h.run(Side::Ipv4, client_frame(t, concat(inner, Bytes(5, 0xEE))));
    REQUIRE(out.verdict.kind == Verdict::Kind::Transmit);
    CHECK(hex(out.frame) == hex(uplink_out(with_hop_limit(inner, 8))));
  }
}

TEST_CASE("decap: spoofed outer source or port finds no tunnel", "[dp][decap]") {
  PipelineHarness h;
  h.learn_gateways();
  const TunnelEntry host = tunnels::proto41_host();
  const TunnelEntry udp48 = tunnels::udp_slash48();
  const Bytes inner = udp6_packet(host.client_v6, addrs::internet_host, 64, 20);

  TunnelEntry forged = host;
  SECTION("proto 41 from another IPv4 address") { forged.client_v4 = v4("198.51.100.11"); }
  SECTION("UDP from the right address but another port") {
    forged = udp48;
    forged.client_port = 40001;
  }
  SECTION("proto 41 from a UDP tunnel's address") {
    forged = udp48;
    forged.mode = TunnelMode::V6V4;
  }
  SECTION("UDP from a proto-41 tunnel's address") {
    forged.mode = TunnelMode::V6UDPV4;
    forged.client_port = 1234;
    forged.server_port = 3653;
  }
  const Outcome out = h.run(Side::Ipv4, client_frame(forged, inner));
  CHECK(out.verdict.kind == Verdict::Kind::Drop);
  CHECK(out.verdict.reason == DropReason::no_tunnel);
  CHECK(h.only_drop(DropReason::no_tunnel));
  CHECK(h.table.last_seen(host.id) == 1);
  CHECK(h.table.last_seen(udp48.id) == 1);
}

TEST_CASE("decap: inner source outside the tunnel's address and prefix", "[dp][decap]") {
  struct Case {
    TunnelEntry tunnel;
    const char* src;
  };
  const std::vector<Case> cases = {
      {tunnels::proto41_host(), "2001:db8:f001:1::3"},       // the neighbour /128
      {tunnels::proto41_host(), "2001:db8:20:1::1"},         // another tunnel's prefix
      {tunnels::proto41_slash64(), "2001:db8:20:2::1"},      // just past the /64
      {tunnels::udp_slash48(), "2001:db8:31::1"},            // just past the /48
      {tunnels::udp_slash48(), "2001:db8:2f:ffff::1"},       // just before it
      {tunnels::udp_host(), "::"},                           // unspecified
  };
  for (const Case& c : cases) {
    INFO(c.src);
    PipelineHarness h;
    h.learn_gateways();
    const Outcome out = h.run(Side::Ipv4, client_frame(c.tunnel, udp6_packet(v6(c.src), addrs::internet_host, 64, 20)));
    CHECK(out.verdict.kind == Verdict::Kind::Drop);
    CHECK(out.verdict.reason == DropReason::inner_source_spoofed);
    CHECK(h.only_drop(DropReason::inner_source_spoofed));
    CHECK(h.table.last_seen(c.tunnel.id) == 1);  // a forged packet does not keep a tunnel alive
  }
}

TEST_CASE("decap: payloads that are not a whole IPv6 packet", "[dp][decap]") {
  PipelineHarness h;
  const TunnelEntry p41 = tunnels::proto41_host();
  const TunnelEntry u = tunnels::udp_host();
  const Bytes good = udp6_packet(p41.client_v6, addrs::internet_host, 64, 20);

  SECTION("shorter than an IPv6 header (proto 41)") {
    const Outcome out = h.run(Side::Ipv4, client_frame(p41, Bytes(good.begin(), good.begin() + 39)));
    CHECK(out.verdict.reason == DropReason::inner_not_ipv6);
    CHECK(h.only_drop(DropReason::inner_not_ipv6));
  }
  SECTION("shorter than an IPv6 header (UDP, first nibble 6)") {
    const Outcome out = h.run(Side::Ipv4, client_frame(u, Bytes{0x60, 0, 0}));
    CHECK(out.verdict.reason == DropReason::inner_not_ipv6);
    CHECK(h.only_drop(DropReason::inner_not_ipv6));
  }
  SECTION("version 4 inside protocol 41") {
    Bytes bad = good;
    bad[0] = 0x45;
    const Outcome out = h.run(Side::Ipv4, client_frame(p41, bad));
    CHECK(out.verdict.reason == DropReason::inner_not_ipv6);
    CHECK(h.only_drop(DropReason::inner_not_ipv6));
  }
  SECTION("payload length past the outer payload") {
    const Outcome out = h.run(Side::Ipv4, client_frame(p41, Bytes(good.begin(), good.end() - 1)));
    CHECK(out.verdict.reason == DropReason::malformed_ipv6);
    CHECK(h.only_drop(DropReason::malformed_ipv6));
  }
  SECTION("payload length past the UDP length") {
    Bytes lying = udp6_packet(u.client_v6, addrs::internet_host, 64, 20);
    lying[5] = static_cast<uint8_t>(lying[5] + 1);  // one byte more than the UDP payload holds
    Bytes datagram = udp(u.client_port, u.server_port, lying);
    datagram.push_back(0);  // present in the IPv4 packet, outside the UDP datagram
    Ipv4Header outer;
    outer.src = u.client_v4;
    outer.dst = addrs::broker_v4;
    outer.proto = 17;
    const Bytes frame = ethernet(addrs::v4_port_mac, addrs::v4_gateway_mac, RTE_ETHER_TYPE_IPV4, ipv4(outer, datagram));
    const Outcome out = h.run(Side::Ipv4, frame);
    CHECK(out.verdict.reason == DropReason::malformed_ipv6);
    CHECK(h.only_drop(DropReason::malformed_ipv6));
  }
}

TEST_CASE("decap: link-local and multicast never leave the tunnel", "[dp][decap]") {
  const TunnelEntry t = tunnels::udp_slash48();
  const std::vector<Bytes> inners = {
      // gogoc's router solicitation from its TUN link-local address
      icmpv6_packet(v6("fe80::1234"), v6("ff02::2"), 255, 133, 0, Bytes(4, 0)),
      // MLD report
      icmpv6_packet(v6("fe80::1234"), v6("ff02::16"), 1, 143, 0, Bytes(4, 0)),
      udp6_packet(t.client_v6, v6("ff0e::1"), 64, 10),
      udp6_packet(t.client_v6, v6("fe80::1"), 64, 10),
  };
  for (size_t i = 0; i < inners.size(); ++i) {
    INFO("case " << i);
    PipelineHarness h;
    h.learn_gateways();
    const Outcome out = h.run(Side::Ipv4, client_frame(t, inners[i]));
    CHECK(out.verdict.reason == DropReason::link_local_or_multicast);
    CHECK(h.only_drop(DropReason::link_local_or_multicast));
  }
}

TEST_CASE("decap: a packet from one tunnel into another is a loop", "[dp][decap]") {
  PipelineHarness h;
  h.learn_gateways();
  const TunnelEntry from = tunnels::proto41_host();
  for (const char* dst : {"2001:db8:f001:1::8", "2001:db8:20:1::5", "2001:db8:30:1::1", "2001:db8:f001:1::2"}) {
    INFO(dst);
    const Outcome out = h.run(Side::Ipv4, client_frame(from, udp6_packet(from.client_v6, v6(dst), 64, 10)));
    CHECK(out.verdict.reason == DropReason::tunnel_loop);
  }
  CHECK(h.only_drop(DropReason::tunnel_loop, 4));
}

TEST_CASE("decap: packets for the broker go to the IPv6 tap unchanged", "[dp][decap]") {
  PipelineHarness h;
  const TunnelEntry t = tunnels::udp_slash48();
  const Bytes inner = with_hop_limit(udp6_packet(t.client_v6, addrs::broker_v6, 1, 30), 1);
  const Outcome out = h.run(Side::Ipv4, client_frame(t, inner));
  REQUIRE(out.verdict.kind == Verdict::Kind::Exception);
  CHECK(out.verdict.out == Side::Ipv6);
  CHECK(hex(out.frame) == hex(ethernet(addrs::v6_port_mac, addrs::v4_port_mac, RTE_ETHER_TYPE_IPV6, inner)));
  CHECK(h.counters.exception.read() == 1);
  CHECK(h.counters.decap.read() == 0);
  CHECK(h.only_drop(DropReason::malformed_ethernet, 0));
}

TEST_CASE("decap: keepalive echo requests are answered into the same tunnel", "[dp][decap][keepalive]") {
  for (const TunnelEntry& t : {tunnels::proto41_host(), tunnels::udp_slash48()}) {
    INFO(describe(t));
    PipelineHarness h;
    h.learn_gateways();
    h.ctx.next_ipv4_id = 0xBEEF;
    h.table.stamp_last_seen(t.id, 5);
    const Bytes data = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};  // gogoc: a struct timeval
    const Bytes request = echo_request(t.client_v6, kServerV6, 0x3412, 0x0100, data, 64);
    const Outcome out = h.run(Side::Ipv4, client_frame(t, request));
    REQUIRE(out.verdict.kind == Verdict::Kind::Transmit);
    CHECK(out.verdict.out == Side::Ipv4);
    const Bytes reply = echo_reply(kServerV6, t.client_v6, 0x3412, 0x0100, data, 64);
    CHECK(hex(out.frame) == hex(broker_tunnel_frame(t, reply, 0xBEEF)));
    CHECK(h.counters.keepalive_replies.read() == 1);
    CHECK(h.table.last_seen(t.id) == h.ctx.now);
    CHECK(h.ctx.next_ipv4_id == 0xBEEF + 1);
    TunnelStats stats;
    h.counters.add_tunnel_stats(t.id, stats);
    CHECK(stats.packets_in == 1);
    CHECK(stats.packets_out == 1);
    CHECK(stats.bytes_out == reply.size());
    CHECK(h.only_drop(DropReason::malformed_ethernet, 0));
  }
}

TEST_CASE("decap: an echo request to another address is forwarded", "[dp][decap][keepalive]") {
  PipelineHarness h;
  h.learn_gateways();
  const TunnelEntry t = tunnels::proto41_host();
  const Bytes request = echo_request(t.client_v6, addrs::internet_host, 1, 1, {}, 64);
  const Outcome out = h.run(Side::Ipv4, client_frame(t, request));
  REQUIRE(out.verdict.kind == Verdict::Kind::Transmit);
  CHECK(hex(out.frame) == hex(uplink_out(with_hop_limit(request, 63))));
  CHECK(h.counters.keepalive_replies.read() == 0);
}

TEST_CASE("decap: hop limit 1 or 0 gets a time exceeded back through the tunnel", "[dp][decap][icmp]") {
  for (const TunnelEntry& t : {tunnels::proto41_slash64(), tunnels::udp_slash48()}) {
    for (const uint8_t hop_limit : {uint8_t{1}, uint8_t{0}}) {
      for (const size_t payload : {size_t{30}, size_t{1300}}) {
        INFO(describe(t) << " hop limit " << int{hop_limit} << " payload " << payload);
        PipelineHarness h;
        h.learn_gateways();
        h.ctx.next_ipv4_id = 77;
        const Ipv6Addr src = t.has_prefix() ? t.prefix : t.client_v6;
        const Bytes inner = with_hop_limit(udp6_packet(src, addrs::internet_host, 64, payload), hop_limit);
        const Outcome out = h.run(Side::Ipv4, client_frame(t, inner));
        REQUIRE(out.verdict.kind == Verdict::Kind::Transmit);
        CHECK(out.verdict.out == Side::Ipv4);
        const Bytes error = icmpv6_error(kServerV6, src, 3, 0, 0, inner);
        CHECK(error.size() <= 1280);
        CHECK(ipv6_l4_checksum_ok(error));
        CHECK(hex(out.frame) == hex(broker_tunnel_frame(t, error, 77)));
        CHECK(h.only_drop(DropReason::hop_limit_exceeded));
        CHECK(h.counters.icmp_errors.read() == 1);
        CHECK(h.counters.decap.read() == 0);
      }
    }
  }
}

TEST_CASE("decap: last-seen is stamped once per second, only by accepted packets", "[dp][decap]") {
  PipelineHarness h;
  h.learn_gateways();
  const TunnelEntry t = tunnels::udp_host();
  const Bytes inner = udp6_packet(t.client_v6, addrs::internet_host, 64, 10);
  CHECK(h.table.last_seen(t.id) == 1);
  h.ctx.now = 2000;
  h.run(Side::Ipv4, client_frame(t, inner));
  CHECK(h.table.last_seen(t.id) == 2000);
  h.ctx.now = 2001;
  h.run(Side::Ipv4, client_frame(t, inner));
  CHECK(h.table.last_seen(t.id) == 2001);
  h.ctx.now = 2002;
  h.run(Side::Ipv4, client_frame(t, udp6_packet(v6("2001:db8::bad"), addrs::internet_host, 64, 10)));
  CHECK(h.table.last_seen(t.id) == 2001);
  CHECK(h.table.last_seen(tunnels::proto41_host().id) == 1);
}

TEST_CASE("decap: on-link destinations on the uplink are resolved themselves", "[dp][decap][neighbor]") {
  PipelineHarness h;
  h.learn_gateways();
  const TunnelEntry t = tunnels::proto41_host();
  const Ipv6Addr on_link = v6("2001:db8:ffff::99");
  const Bytes inner = udp6_packet(t.client_v6, on_link, 64, 10);

  Outcome out = h.run(Side::Ipv4, client_frame(t, inner));
  CHECK(out.verdict.reason == DropReason::neighbor_unresolved);
  REQUIRE(out.extra.size() == 1);
  CHECK(out.extra[0].first == Side::Ipv6);
  Bytes body(4, 0);  // reserved
  body.insert(body.end(), on_link.bytes.begin(), on_link.bytes.end());
  body.insert(body.end(), {1, 1});
  body.insert(body.end(), addrs::v6_port_mac.addr_bytes, addrs::v6_port_mac.addr_bytes + 6);
  const Bytes solicitation = icmpv6_packet(addrs::broker_v6, v6("ff02::1:ff00:99"), 255, 135, 0, body);
  CHECK(hex(out.extra[0].second) ==
        hex(ethernet(mac("33:33:ff:00:00:99"), addrs::v6_port_mac, RTE_ETHER_TYPE_IPV6, solicitation)));

  const rte_ether_addr host_mac = mac("02:00:00:00:66:99");
  h.neighbors.learn(NeighborKey::ipv6(on_link), host_mac);
  out = h.run(Side::Ipv4, client_frame(t, inner));
  REQUIRE(out.verdict.kind == Verdict::Kind::Transmit);
  CHECK(hex(out.frame) == hex(uplink_out(with_hop_limit(inner, 63), host_mac)));
}

TEST_CASE("decap: without an IPv6 gateway, off-link destinations are dropped", "[dp][decap]") {
  DataplaneConfig cfg = test_config();
  cfg.ipv6_gateway.reset();
  PipelineHarness h(cfg);
  const TunnelEntry t = tunnels::proto41_host();
  const Outcome out = h.run(Side::Ipv4, client_frame(t, udp6_packet(t.client_v6, addrs::internet_host, 64, 10)));
  CHECK(out.verdict.reason == DropReason::no_gateway);
  CHECK(h.only_drop(DropReason::no_gateway));
}
