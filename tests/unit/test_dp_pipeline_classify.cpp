// The IPv4 port's first look at a frame: what goes to the kernel, what is dropped and why,
// fragments, truncated and random frames of every short length, multi-segment mbufs.
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "tests/unit/dp_test_support.hpp"

using namespace tsp;
using namespace tsp::dp;
using namespace tsp::dp::test;

namespace {

Bytes to_broker(uint8_t proto, const Bytes& payload, uint16_t flags_fragment = 0, Ipv4Addr dst = addrs::broker_v4) {
  Ipv4Header h;
  h.src = v4("198.51.100.10");
  h.dst = dst;
  h.proto = proto;
  h.flags_fragment = flags_fragment;
  return ethernet(addrs::v4_port_mac, addrs::v4_gateway_mac, RTE_ETHER_TYPE_IPV4, ipv4(h, payload));
}

// A TSP control message over RUDP: the 8-byte header starts with the nibble 0xF.
const Bytes kRudpHello = {0xF0, 0, 0, 1, 0, 0, 0, 0, 'V', 'E', 'R', 'S', 'I', 'O', 'N', '=', '2', '.', '0', '.', '0', '\r', '\n'};

}  // namespace

TEST_CASE("IPv4 port: what goes to the kernel's tap", "[dp][classify][exception]") {
  const TunnelEntry u = tunnels::udp_slash48();
  const Bytes inner = udp6_packet(u.client_v6, addrs::internet_host, 64, 10);
  struct Case {
    const char* name;
    Bytes frame;
  };
  const std::vector<Case> cases = {
      {"TSP control on UDP 3653 (first nibble 0xF)", to_broker(17, udp(40000, 3653, kRudpHello))},
      {"control from a tunnel's own address and port", client_frame(u, kRudpHello)},
      {"empty UDP datagram to 3653", to_broker(17, udp(40000, 3653, {}))},
      {"UDP to another port, first nibble 6", to_broker(17, udp(40000, 53, inner))},
      {"TCP to 3653", to_broker(6, Bytes{0x9c, 0x40, 0x0e, 0x45, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0})},
      {"ICMP echo to us", to_broker(1, Bytes{8, 0, 0xf7, 0xff, 0, 0, 0, 0})},
      {"a fragment of TCP (the kernel reassembles its own)", to_broker(6, Bytes(24, 0), 0x2000)},
      {"limited broadcast", to_broker(17, udp(68, 67, Bytes(10, 0)), 0, v4("255.255.255.255"))},
      {"subnet broadcast", to_broker(17, udp(137, 137, Bytes(10, 0)), 0, v4("192.0.2.255"))},
      {"multicast", to_broker(2, Bytes(8, 0), 0, v4("224.0.0.1"))},
      {"LLDP", ethernet(mac("01:80:c2:00:00:0e"), addrs::v4_gateway_mac, 0x88CC, Bytes(40, 1))},
      {"VLAN tag", ethernet(addrs::v4_port_mac, addrs::v4_gateway_mac, 0x8100, Bytes(40, 1))},
      {"IPv6 ethertype on the IPv4 port", ethernet(addrs::v4_port_mac, addrs::v4_gateway_mac, 0x86DD, inner)},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    PipelineHarness h;
    const Outcome out = h.run(Side::Ipv4, c.frame);
    CHECK(out.verdict.kind == Verdict::Kind::Exception);
    CHECK(out.verdict.out == Side::Ipv4);
    CHECK(hex(out.frame) == hex(c.frame));
    CHECK(h.counters.exception.read() == 1);
    CHECK(h.only_drop(DropReason::malformed_ethernet, 0));
  }
}

TEST_CASE("IPv4 port: fragments of tunnel packets and of UDP go to the reassembly", "[dp][classify][fragment]") {
  const TunnelEntry p41 = tunnels::proto41_host();
  const TunnelEntry u = tunnels::udp_slash48();
  const Bytes inner = udp6_packet(p41.client_v6, addrs::internet_host, 64, 40);
  struct Case {
    const char* name;
    Bytes frame;
  };
  std::vector<Case> cases;
  for (const uint16_t flags : {uint16_t{0x2000}, uint16_t{0x0010}, uint16_t{0x2010}}) {
    Ipv4Header h;
    h.src = p41.client_v4;
    h.dst = addrs::broker_v4;
    h.flags_fragment = flags;
    cases.push_back({"proto 41", ethernet(addrs::v4_port_mac, addrs::v4_gateway_mac, RTE_ETHER_TYPE_IPV4, ipv4(h, inner))});
  }
  {
    Ipv4Header h;
    h.src = u.client_v4;
    h.dst = addrs::broker_v4;
    h.proto = 17;
    h.flags_fragment = 0x2000;  // first fragment: the port shows
    cases.push_back({"UDP 3653 first fragment",
                     ethernet(addrs::v4_port_mac, addrs::v4_gateway_mac, RTE_ETHER_TYPE_IPV4,
                              ipv4(h, udp(u.client_port, 3653, inner)))});
    cases.push_back({"UDP 53 first fragment (the kernel's, whole afterwards)",
                     ethernet(addrs::v4_port_mac, addrs::v4_gateway_mac, RTE_ETHER_TYPE_IPV4,
                              ipv4(h, udp(u.client_port, 53, inner)))});
    h.flags_fragment = 0x0002;
    cases.push_back({"a later UDP fragment (its port is unknown)",
                     ethernet(addrs::v4_port_mac, addrs::v4_gateway_mac, RTE_ETHER_TYPE_IPV4, ipv4(h, Bytes(16, 0x61)))});
  }
  for (const Case& c : cases) {
    INFO(c.name);
    PipelineHarness h;
    const Outcome out = h.run(Side::Ipv4, c.frame);
    CHECK(out.verdict.kind == Verdict::Kind::Reassemble);
    CHECK(hex(out.frame) == hex(c.frame));  // untouched
    CHECK(h.only_drop(DropReason::malformed_ethernet, 0));  // nothing counted
    CHECK(h.counters.exception.read() == 0);
  }
  SECTION("DF alone is no fragment") {
    PipelineHarness h;
    h.learn_gateways();
    Ipv4Header hdr;
    hdr.src = p41.client_v4;
    hdr.dst = addrs::broker_v4;
    hdr.flags_fragment = 0x4000;
    const Outcome out =
        h.run(Side::Ipv4, ethernet(addrs::v4_port_mac, addrs::v4_gateway_mac, RTE_ETHER_TYPE_IPV4, ipv4(hdr, inner)));
    CHECK(out.verdict.kind == Verdict::Kind::Transmit);
  }
}

TEST_CASE("IPv4 port: bad IPv4 headers", "[dp][classify]") {
  const TunnelEntry p41 = tunnels::proto41_host();
  const Bytes good = client_frame(p41, udp6_packet(p41.client_v6, addrs::internet_host, 64, 10));
  auto fix_checksum = [](Bytes f) {
    f[24] = f[25] = 0;
    const uint16_t sum = internet_checksum(f.data() + 14, (f[14] & 0x0F) * 4u);
    f[24] = static_cast<uint8_t>(sum >> 8);
    f[25] = static_cast<uint8_t>(sum);
    return f;
  };
  struct Case {
    const char* name;
    Bytes frame;
  };
  std::vector<Case> cases;
  Bytes f = good;
  f[25] ^= 1;
  cases.push_back({"header checksum", f});
  f = good;
  f[14] = 0x65;
  cases.push_back({"version 6", fix_checksum(f)});
  f = good;
  f[14] = 0x44;
  cases.push_back({"IHL 4", f});
  f = client_frame(p41, Bytes(20, 0x60));  // total length 40...
  f.resize(f.size() + 30, 0);             // ...in a padded frame that would hold a 60-byte header
  f[14] = 0x4F;
  cases.push_back({"IHL past the total length", fix_checksum(f)});
  f = good;
  f[16] = 0;
  f[17] = 19;
  cases.push_back({"total length below the header", fix_checksum(f)});
  f = good;
  f[17] = static_cast<uint8_t>(f[17] + 1);
  cases.push_back({"total length past the frame", fix_checksum(f)});
  for (const Case& c : cases) {
    INFO(c.name);
    PipelineHarness h;
    const Outcome out = h.run(Side::Ipv4, c.frame);
    CHECK(out.verdict.kind == Verdict::Kind::Drop);
    CHECK(out.verdict.reason == DropReason::malformed_ipv4);
    CHECK(h.only_drop(DropReason::malformed_ipv4));
  }
}

TEST_CASE("IPv4 port: checksum verdicts of the NIC are trusted", "[dp][classify]") {
  PipelineHarness h;
  h.learn_gateways();
  const TunnelEntry p41 = tunnels::proto41_host();
  Bytes frame = client_frame(p41, udp6_packet(p41.client_v6, addrs::internet_host, 64, 10));
  CHECK(h.run(Side::Ipv4, frame, RTE_MBUF_F_RX_IP_CKSUM_BAD).verdict.reason == DropReason::malformed_ipv4);
  frame[24] ^= 0xFF;  // wrong, but the NIC says it checked it
  CHECK(h.run(Side::Ipv4, frame, RTE_MBUF_F_RX_IP_CKSUM_GOOD).verdict.kind == Verdict::Kind::Transmit);
  CHECK(h.run(Side::Ipv4, frame).verdict.reason == DropReason::malformed_ipv4);

  const TunnelEntry u = tunnels::udp_host();
  const Bytes udp_frame = client_frame(u, udp6_packet(u.client_v6, addrs::internet_host, 64, 10));
  CHECK(h.run(Side::Ipv4, udp_frame, RTE_MBUF_F_RX_L4_CKSUM_BAD).verdict.reason == DropReason::malformed_udp);
  CHECK(h.run(Side::Ipv4, udp_frame, RTE_MBUF_F_RX_L4_CKSUM_GOOD).verdict.kind == Verdict::Kind::Transmit);
}

TEST_CASE("IPv4 port: UDP lengths that do not add up", "[dp][classify]") {
  const TunnelEntry u = tunnels::udp_host();
  const Bytes inner = udp6_packet(u.client_v6, addrs::internet_host, 64, 10);
  for (const int delta : {+1, -100}) {
    INFO("UDP length off by " << delta);
    PipelineHarness h;
    Bytes datagram = udp(u.client_port, 3653, inner);
    const int len = (datagram[4] << 8 | datagram[5]) + delta;
    datagram[4] = static_cast<uint8_t>(len >> 8);
    datagram[5] = static_cast<uint8_t>(len);
    Ipv4Header hdr;
    hdr.src = u.client_v4;
    hdr.dst = addrs::broker_v4;
    hdr.proto = 17;
    const Outcome out =
        h.run(Side::Ipv4, ethernet(addrs::v4_port_mac, addrs::v4_gateway_mac, RTE_ETHER_TYPE_IPV4, ipv4(hdr, datagram)));
    CHECK(out.verdict.reason == DropReason::malformed_udp);
    CHECK(h.only_drop(DropReason::malformed_udp));
  }
  SECTION("shorter than a UDP header") {
    PipelineHarness h;
    const Outcome out = h.run(Side::Ipv4, to_broker(17, Bytes{0x9c, 0x40, 0x0e}));
    CHECK(out.verdict.reason == DropReason::malformed_udp);
  }
}

TEST_CASE("IPv4 port: packets for another host", "[dp][classify]") {
  PipelineHarness h;
  const TunnelEntry p41 = tunnels::proto41_host();
  const Outcome out = h.run(Side::Ipv4, to_broker(41, udp6_packet(p41.client_v6, addrs::internet_host, 64, 10), 0,
                                                  v4("192.0.2.2")));
  CHECK(out.verdict.reason == DropReason::not_for_us);
  CHECK(h.only_drop(DropReason::not_for_us));
}

TEST_CASE("both ports: every truncation of a valid frame, lengths 0 to 80", "[dp][classify][garbage]") {
  const TunnelEntry p41 = tunnels::proto41_host();
  const Bytes v4_frame = client_frame(p41, udp6_packet(p41.client_v6, addrs::internet_host, 64, 100));
  const Bytes v6_frame = uplink_in(udp6_packet(addrs::internet_host, p41.client_v6, 64, 100));
  PipelineHarness h;
  h.learn_gateways();
  for (size_t len = 0; len <= 80; ++len) {
    INFO("length " << len);
    const DropReason v4_reason = len < 14 ? DropReason::malformed_ethernet : DropReason::malformed_ipv4;
    const DropReason v6_reason = len < 14 ? DropReason::malformed_ethernet : DropReason::malformed_ipv6;
    Outcome out = h.run(Side::Ipv4, Bytes(v4_frame.begin(), v4_frame.begin() + static_cast<long>(len)));
    CHECK(out.verdict.kind == Verdict::Kind::Drop);
    CHECK(out.verdict.reason == v4_reason);
    out = h.run(Side::Ipv6, Bytes(v6_frame.begin(), v6_frame.begin() + static_cast<long>(len)));
    CHECK(out.verdict.kind == Verdict::Kind::Drop);
    CHECK(out.verdict.reason == v6_reason);
  }
  CHECK(h.dropped(DropReason::malformed_ethernet) == 2 * 14);
  CHECK(h.dropped(DropReason::malformed_ipv4) == 81 - 14);
  CHECK(h.dropped(DropReason::malformed_ipv6) == 81 - 14);
}

TEST_CASE("both ports: random frames of every length 0 to 80 are counted once each", "[dp][classify][garbage]") {
  PipelineHarness h;
  h.learn_gateways();
  std::mt19937 rng(20240611);
  std::uniform_int_distribution<int> byte(0, 255);
  const uint16_t ether_types[] = {RTE_ETHER_TYPE_IPV4, RTE_ETHER_TYPE_IPV6, RTE_ETHER_TYPE_ARP, 0x1234};
  uint64_t runs = 0, transmitted = 0;
  for (size_t len = 0; len <= 80; ++len) {
    for (int i = 0; i < 40; ++i) {
      Bytes frame(len);
      for (auto& b : frame) b = static_cast<uint8_t>(byte(rng));
      if (len >= 14) {  // mostly a type the pipeline parses further, version nibble right half the time
        const uint16_t type = ether_types[i % 4];
        frame[12] = static_cast<uint8_t>(type >> 8);
        frame[13] = static_cast<uint8_t>(type);
        if (len > 14 && i % 2 == 0) frame[14] = type == RTE_ETHER_TYPE_IPV6 ? 0x60 : 0x45;
      }
      for (const Side side : {Side::Ipv4, Side::Ipv6}) {
        const Outcome out = h.run(side, frame);
        ++runs;
        if (out.verdict.kind == Verdict::Kind::Transmit) ++transmitted;
        for (const auto& extra : out.extra) CHECK(extra.second.size() >= 42);
      }
    }
  }
  uint64_t drops = 0;
  for (const auto& d : h.counters.drops) drops += d.read();
  CHECK(transmitted == 0);
  CHECK(drops + h.counters.exception.read() == runs);
}

TEST_CASE("multi-segment frames are linearised, or dropped when they cannot be", "[dp][classify]") {
  PipelineHarness h;
  h.learn_gateways();
  const TunnelEntry p41 = tunnels::proto41_host();

  auto chain = [](const Bytes& frame, size_t first_len) {
    rte_mbuf* head = to_mbuf(Bytes(frame.begin(), frame.begin() + static_cast<long>(first_len)));
    rte_mbuf* tail = to_mbuf(Bytes(frame.begin() + static_cast<long>(first_len), frame.end()));
    REQUIRE(rte_pktmbuf_chain(head, tail) == 0);
    return head;
  };

  SECTION("fits one buffer") {
    const Bytes inner = udp6_packet(p41.client_v6, addrs::internet_host, 64, 300);
    rte_mbuf* m = chain(client_frame(p41, inner), 20);
    ExtraPackets extra;
    const Verdict v = process_packet(h.ctx, Side::Ipv4, m, extra);
    CHECK(v.kind == Verdict::Kind::Transmit);
    CHECK(hex(to_bytes(m)) == hex(uplink_out(with_hop_limit(inner, 63))));
    rte_pktmbuf_free(m);
  }
  SECTION("too long for one buffer") {
    const Bytes frame = client_frame(p41, udp6_packet(p41.client_v6, addrs::internet_host, 64, 1400));
    rte_mbuf* m = chain(concat(frame, Bytes(1200, 0)), 1500);
    ExtraPackets extra;
    const Verdict v = process_packet(h.ctx, Side::Ipv4, m, extra);
    CHECK(v.kind == Verdict::Kind::Drop);
    CHECK(v.reason == DropReason::segmented_frame);
    CHECK(h.only_drop(DropReason::segmented_frame));
    rte_pktmbuf_free(m);
  }
}
