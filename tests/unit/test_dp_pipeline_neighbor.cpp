// Next hops: the lock-free neighbor table, learning from ARP and neighbor discovery on the
// ports, and the ARP requests / neighbor solicitations sent (rate limited) when a MAC is unknown.
#include <catch2/catch.hpp>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "dataplane/neighbor_resolve.hpp"
#include "tests/unit/dp_test_support.hpp"

using namespace tsp;
using namespace tsp::dp;
using namespace tsp::dp::test;

namespace {

bool same_mac(const std::optional<rte_ether_addr>& a, const rte_ether_addr& b) {
  return a && rte_is_same_ether_addr(&*a, &b);
}

Bytes arp(uint16_t op, const rte_ether_addr& sender_mac, Ipv4Addr sender, const rte_ether_addr& target_mac,
          Ipv4Addr target) {
  Bytes b = {0, 1, 0x08, 0, 6, 4, 0, static_cast<uint8_t>(op)};
  b.insert(b.end(), sender_mac.addr_bytes, sender_mac.addr_bytes + 6);
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(sender.value >> (24 - 8 * i)));
  b.insert(b.end(), target_mac.addr_bytes, target_mac.addr_bytes + 6);
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(target.value >> (24 - 8 * i)));
  return b;
}

Bytes ns_body(const Ipv6Addr& target, const rte_ether_addr* source_mac) {
  Bytes body(4, 0);
  body.insert(body.end(), target.bytes.begin(), target.bytes.end());
  if (source_mac != nullptr) {
    body.insert(body.end(), {1, 1});
    body.insert(body.end(), source_mac->addr_bytes, source_mac->addr_bytes + 6);
  }
  return body;
}

Bytes na_body(const Ipv6Addr& target, const rte_ether_addr* target_mac) {
  Bytes body = {0x60, 0, 0, 0};  // solicited, override
  body.insert(body.end(), target.bytes.begin(), target.bytes.end());
  if (target_mac != nullptr) {
    body.insert(body.end(), {2, 1});
    body.insert(body.end(), target_mac->addr_bytes, target_mac->addr_bytes + 6);
  }
  return body;
}

const rte_ether_addr kZeroMac{};

}  // namespace

TEST_CASE("neighbor table: capacity must be a power of two", "[dp][neighbor]") {
  CHECK_THROWS_AS(NeighborTable(0), std::invalid_argument);
  CHECK_THROWS_AS(NeighborTable(1), std::invalid_argument);
  CHECK_THROWS_AS(NeighborTable(100), std::invalid_argument);
  CHECK_THROWS_AS(NeighborTable(NeighborTable::kMaxCapacity * 2), std::invalid_argument);
  CHECK(NeighborTable(2).capacity() == 2);
  CHECK(NeighborTable().capacity() == NeighborTable::kDefaultCapacity);
}

TEST_CASE("neighbor table: learn, refresh and look up both families", "[dp][neighbor]") {
  NeighborTable t(16);
  const rte_ether_addr a = mac("02:00:00:00:00:0a");
  const rte_ether_addr b = mac("02:00:00:00:00:0b");
  const auto k4 = NeighborKey::ipv4(v4("192.0.2.9"));
  const auto k6 = NeighborKey::ipv6(v6("2001:db8:ffff::9"));
  CHECK_FALSE(t.lookup(k4));
  CHECK(t.learn(k4, a));
  CHECK(t.learn(k6, b));
  CHECK(same_mac(t.lookup(k4), a));
  CHECK(same_mac(t.lookup(k6), b));
  CHECK(t.learn(k4, b));  // the neighbor changed its MAC
  CHECK(same_mac(t.lookup(k4), b));
  CHECK(t.size() == 2);
  CHECK(NeighborKey::ipv4(v4("192.0.2.9")) == NeighborKey::ipv6(v6("::ffff:192.0.2.9")));
  CHECK_FALSE(NeighborKey::ipv4(v4("192.0.2.9")) == NeighborKey::ipv6(v6("::192.0.2.9")));
}

TEST_CASE("neighbor table: a full table refuses new neighbors and says so", "[dp][neighbor]") {
  NeighborTable t(4);
  const rte_ether_addr m = mac("02:00:00:00:00:01");
  for (uint32_t i = 1; i <= 4; ++i) CHECK(t.learn(NeighborKey::ipv4(Ipv4Addr{i}), m));
  CHECK_FALSE(t.learn(NeighborKey::ipv4(Ipv4Addr{5}), m));
  CHECK_FALSE(t.claim_request(NeighborKey::ipv4(Ipv4Addr{6}), 1));
  CHECK(t.learn_failures() == 2);
  CHECK_FALSE(t.lookup(NeighborKey::ipv4(Ipv4Addr{5})));
  for (uint32_t i = 1; i <= 4; ++i) CHECK(same_mac(t.lookup(NeighborKey::ipv4(Ipv4Addr{i})), m));
  CHECK(t.learn(NeighborKey::ipv4(Ipv4Addr{3}), mac("02:00:00:00:00:03")));  // refreshing still works
}

TEST_CASE("neighbor table: one request per neighbor per second", "[dp][neighbor]") {
  NeighborTable t(8);
  const auto k = NeighborKey::ipv4(v4("192.0.2.77"));
  CHECK(t.claim_request(k, 0));  // second 0 is a second like any other
  CHECK_FALSE(t.claim_request(k, 0));
  CHECK(t.claim_request(k, 1));
  CHECK_FALSE(t.claim_request(k, 1));
  CHECK_FALSE(t.claim_request(k, 0));  // a worker whose clock lags behind
  CHECK(t.claim_request(NeighborKey::ipv4(v4("192.0.2.78")), 1));
  CHECK_FALSE(t.lookup(k));  // asking is not knowing
}

TEST_CASE("neighbor table: concurrent learners and readers agree", "[dp][neighbor]") {
  NeighborTable t(1024);
  constexpr uint32_t kKeys = 300;
  std::atomic<bool> go{false};
  auto learner = [&](uint8_t last_byte) {
    while (!go.load()) std::this_thread::yield();
    for (int round = 0; round < 20; ++round) {
      for (uint32_t i = 0; i < kKeys; ++i) {
        rte_ether_addr m = {{0x02, 0, 0, 0, static_cast<uint8_t>(i), last_byte}};
        t.learn(NeighborKey::ipv4(Ipv4Addr{0x0A000000u + i}), m);
      }
    }
  };
  std::atomic<uint64_t> bad_reads{0};
  auto reader = [&] {
    while (!go.load()) std::this_thread::yield();
    for (int round = 0; round < 20; ++round) {
      for (uint32_t i = 0; i < kKeys; ++i) {
        const auto m = t.lookup(NeighborKey::ipv4(Ipv4Addr{0x0A000000u + i}));
        if (m && (m->addr_bytes[0] != 0x02 || m->addr_bytes[4] != static_cast<uint8_t>(i))) bad_reads++;
      }
    }
  };
  std::thread a(learner, uint8_t{1}), b(learner, uint8_t{2}), r(reader);
  go = true;
  a.join();
  b.join();
  r.join();
  CHECK(bad_reads.load() == 0);
  CHECK(t.size() >= kKeys);
  CHECK(t.size() <= t.capacity());
  for (uint32_t i = 0; i < kKeys; ++i) {
    const auto m = t.lookup(NeighborKey::ipv4(Ipv4Addr{0x0A000000u + i}));
    REQUIRE(m);
    CHECK(m->addr_bytes[4] == static_cast<uint8_t>(i));
    CHECK((m->addr_bytes[5] == 1 || m->addr_bytes[5] == 2));
  }
}

TEST_CASE("IPv4 port: ARP teaches senders from our subnet, then goes to the kernel", "[dp][neighbor][arp]") {
  const rte_ether_addr client_mac = addrs::client_lan_mac;
  const Ipv4Addr client = v4("192.0.2.50");
  struct Case {
    const char* name;
    Bytes frame;
    bool learns;
  };
  const std::vector<Case> cases = {
      {"request for our address", ethernet(mac("ff:ff:ff:ff:ff:ff"), client_mac, RTE_ETHER_TYPE_ARP,
                                           arp(1, client_mac, client, kZeroMac, addrs::broker_v4)),
       true},
      {"reply to us", ethernet(addrs::v4_port_mac, client_mac, RTE_ETHER_TYPE_ARP,
                               arp(2, client_mac, client, addrs::v4_port_mac, addrs::broker_v4)),
       true},
      {"gratuitous", ethernet(mac("ff:ff:ff:ff:ff:ff"), client_mac, RTE_ETHER_TYPE_ARP,
                              arp(1, client_mac, client, kZeroMac, client)),
       true},
      {"sender outside our subnet", ethernet(mac("ff:ff:ff:ff:ff:ff"), client_mac, RTE_ETHER_TYPE_ARP,
                                             arp(1, client_mac, v4("192.0.3.50"), kZeroMac, addrs::broker_v4)),
       false},
      {"sender claims our own address", ethernet(mac("ff:ff:ff:ff:ff:ff"), client_mac, RTE_ETHER_TYPE_ARP,
                                                 arp(1, client_mac, addrs::broker_v4, kZeroMac, addrs::broker_v4)),
       false},
      {"multicast sender MAC", ethernet(mac("ff:ff:ff:ff:ff:ff"), client_mac, RTE_ETHER_TYPE_ARP,
                                        arp(1, mac("01:00:5e:00:00:01"), client, kZeroMac, addrs::broker_v4)),
       false},
      {"truncated", ethernet(mac("ff:ff:ff:ff:ff:ff"), client_mac, RTE_ETHER_TYPE_ARP, Bytes{0, 1, 8, 0, 6, 4, 0, 1}),
       false},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    PipelineHarness h;
    const Outcome out = h.run(Side::Ipv4, c.frame);
    CHECK(out.verdict.kind == Verdict::Kind::Exception);
    CHECK(out.verdict.out == Side::Ipv4);
    CHECK(hex(out.frame) == hex(c.frame));
    const Ipv4Addr sender{static_cast<uint32_t>(c.frame.size() >= 42 ? (c.frame[28] << 24 | c.frame[29] << 16 |
                                                                        c.frame[30] << 8 | c.frame[31])
                                                                     : 0)};
    CHECK(static_cast<bool>(h.neighbors.lookup(NeighborKey::ipv4(sender))) == c.learns);
    CHECK(h.neighbors.size() == (c.learns ? 1u : 0u));
  }
}

TEST_CASE("encap: unknown client next hop sends a rate-limited ARP request, then uses the answer", "[dp][neighbor][arp]") {
  PipelineHarness h;
  h.learn_gateways();
  const TunnelEntry on_link = tunnels::proto41_on_link();
  const Bytes inner = udp6_packet(addrs::internet_host, on_link.client_v6, 64, 20);
  const Bytes request = ethernet(mac("ff:ff:ff:ff:ff:ff"), addrs::v4_port_mac, RTE_ETHER_TYPE_ARP,
                                 arp(1, addrs::v4_port_mac, addrs::broker_v4, kZeroMac, on_link.client_v4));

  Outcome out = h.run(Side::Ipv6, uplink_in(inner));
  CHECK(out.verdict.reason == DropReason::neighbor_unresolved);
  REQUIRE(out.extra.size() == 1);
  CHECK(out.extra[0].first == Side::Ipv4);
  CHECK(hex(out.extra[0].second) == hex(request));

  out = h.run(Side::Ipv6, uplink_in(inner));  // same second: no second request
  CHECK(out.verdict.reason == DropReason::neighbor_unresolved);
  CHECK(out.extra.empty());

  h.ctx.now += 1;
  out = h.run(Side::Ipv6, uplink_in(inner));
  REQUIRE(out.extra.size() == 1);
  CHECK(hex(out.extra[0].second) == hex(request));
  CHECK(h.dropped(DropReason::neighbor_unresolved) == 3);

  // The client answers; its reply goes to the kernel and teaches us its MAC.
  const Outcome reply = h.run(Side::Ipv4, ethernet(addrs::v4_port_mac, addrs::client_lan_mac, RTE_ETHER_TYPE_ARP,
                                                   arp(2, addrs::client_lan_mac, on_link.client_v4,
                                                       addrs::v4_port_mac, addrs::broker_v4)));
  CHECK(reply.verdict.kind == Verdict::Kind::Exception);
  out = h.run(Side::Ipv6, uplink_in(inner));
  REQUIRE(out.verdict.kind == Verdict::Kind::Transmit);
  CHECK(hex(out.frame) == hex(broker_tunnel_frame(on_link, with_hop_limit(inner, 63), 0, addrs::client_lan_mac)));
}

TEST_CASE("encap: unknown IPv4 gateway is asked for once per second", "[dp][neighbor][arp]") {
  PipelineHarness h;
  const Bytes inner = udp6_packet(addrs::internet_host, v6("2001:db8:f001:1::2"), 64, 20);
  Outcome out = h.run(Side::Ipv6, uplink_in(inner));
  REQUIRE(out.extra.size() == 1);
  CHECK(hex(out.extra[0].second) == hex(ethernet(mac("ff:ff:ff:ff:ff:ff"), addrs::v4_port_mac, RTE_ETHER_TYPE_ARP,
                                                  arp(1, addrs::v4_port_mac, addrs::broker_v4, kZeroMac,
                                                      addrs::v4_gateway))));
  for (int i = 0; i < 5; ++i) CHECK(h.run(Side::Ipv6, uplink_in(inner)).extra.empty());
}

TEST_CASE("decap: unknown IPv6 gateway gets a solicitation once per second", "[dp][neighbor][ndp]") {
  PipelineHarness h;
  const TunnelEntry t = tunnels::proto41_host();
  const Bytes inner = udp6_packet(t.client_v6, addrs::internet_host, 64, 20);
  const rte_ether_addr port_mac = addrs::v6_port_mac;
  const Bytes solicitation =
      uplink_out(icmpv6_packet(addrs::broker_v6, v6("ff02::1:ff00:1"), 255, 135, 0, ns_body(addrs::v6_gateway, &port_mac)),
                 mac("33:33:ff:00:00:01"));
  Outcome out = h.run(Side::Ipv4, client_frame(t, inner));
  CHECK(out.verdict.reason == DropReason::neighbor_unresolved);
  REQUIRE(out.extra.size() == 1);
  CHECK(out.extra[0].first == Side::Ipv6);
  CHECK(hex(out.extra[0].second) == hex(solicitation));
  CHECK(h.run(Side::Ipv4, client_frame(t, inner)).extra.empty());
  h.ctx.now += 1;
  CHECK(h.run(Side::Ipv4, client_frame(t, inner)).extra.size() == 1);
}

TEST_CASE("uplink: neighbor discovery teaches MACs, then goes to the kernel", "[dp][neighbor][ndp]") {
  const rte_ether_addr gw_mac = addrs::v6_gateway_mac;
  const rte_ether_addr other_mac = mac("02:00:00:00:66:77");
  const Ipv6Addr on_link = v6("2001:db8:ffff::77");
  struct Case {
    const char* name;
    Bytes packet;
    Ipv6Addr learned;
    bool learns;
  };
  const std::vector<Case> cases = {
      {"gateway solicits our address",
       icmpv6_packet(addrs::v6_gateway, v6("ff02::1:ff00:1"), 255, 135, 0, ns_body(addrs::broker_v6, &gw_mac)),
       addrs::v6_gateway, true},
      {"advertisement with target option",
       icmpv6_packet(on_link, addrs::broker_v6, 255, 136, 0, na_body(on_link, &other_mac)), on_link, true},
      {"advertisement without option: the frame's source MAC",
       icmpv6_packet(addrs::v6_gateway, addrs::broker_v6, 255, 136, 0, na_body(addrs::v6_gateway, nullptr)),
       addrs::v6_gateway, true},
      {"hop limit 254 (not from the link)",
       icmpv6_packet(addrs::v6_gateway, v6("ff02::1:ff00:1"), 254, 135, 0, ns_body(addrs::broker_v6, &gw_mac)),
       addrs::v6_gateway, false},
      {"duplicate address detection (unspecified source)",
       icmpv6_packet(v6("::"), v6("ff02::1:ff00:77"), 255, 135, 0, ns_body(on_link, nullptr)), v6("::"), false},
      {"off-link address", icmpv6_packet(v6("2001:db8:beef::5"), addrs::broker_v6, 255, 136, 0,
                                         na_body(v6("2001:db8:beef::5"), &other_mac)),
       v6("2001:db8:beef::5"), false},
      {"solicitation without source option",
       icmpv6_packet(on_link, addrs::broker_v6, 255, 135, 0, ns_body(addrs::broker_v6, nullptr)), on_link, false},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    PipelineHarness h;
    const Bytes frame = uplink_in(c.packet);
    const Outcome out = h.run(Side::Ipv6, frame);
    CHECK(out.verdict.kind == Verdict::Kind::Exception);
    CHECK(out.verdict.out == Side::Ipv6);
    CHECK(hex(out.frame) == hex(frame));
    CHECK(static_cast<bool>(h.neighbors.lookup(NeighborKey::ipv6(c.learned))) == c.learns);
  }
  SECTION("a bad checksum teaches nothing") {
    PipelineHarness h;
    Bytes packet = icmpv6_packet(on_link, addrs::broker_v6, 255, 136, 0, na_body(on_link, &other_mac));
    packet[42] ^= 1;
    h.run(Side::Ipv6, uplink_in(packet));
    CHECK_FALSE(h.neighbors.lookup(NeighborKey::ipv6(on_link)));
  }
  SECTION("a zero-length option teaches nothing") {
    PipelineHarness h;
    Bytes body = na_body(on_link, &other_mac);
    body[21] = 0;
    h.run(Side::Ipv6, uplink_in(icmpv6_packet(on_link, addrs::broker_v6, 255, 136, 0, body)));
    CHECK_FALSE(h.neighbors.lookup(NeighborKey::ipv6(on_link)));
  }
}

TEST_CASE("request builders: an empty pool gives nullptr, not a crash", "[dp][neighbor]") {
  rte_mempool* tiny = rte_pktmbuf_pool_create("dp_test_tiny", 1, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  REQUIRE(tiny != nullptr);
  rte_mbuf* hold = rte_pktmbuf_alloc(tiny);
  REQUIRE(hold != nullptr);
  const uint8_t target[16] = {0xfe, 0x80};
  CHECK(build_arp_request(tiny, addrs::v4_port_mac, addrs::broker_v4, addrs::v4_gateway) == nullptr);
  CHECK(build_neighbor_solicitation(tiny, addrs::v6_port_mac, addrs::broker_v6, target) == nullptr);

  // And the pipeline counts it as no_mbuf when it wanted to ask.
  PipelineHarness h;
  h.ctx.pool = tiny;
  const Outcome out = h.run(Side::Ipv6, uplink_in(udp6_packet(addrs::internet_host, v6("2001:db8:f001:1::2"), 64, 8)));
  CHECK(out.verdict.reason == DropReason::neighbor_unresolved);
  CHECK(out.extra.empty());
  CHECK(h.dropped(DropReason::no_mbuf) == 1);
  rte_pktmbuf_free(hold);
  rte_mempool_free(tiny);
}

TEST_CASE("burst: a MAC learned mid-burst is used by the frames after it, not before", "[dp][neighbor][arp][burst]") {
  // The burst path remembers a resolved next hop for the rest of its burst; an ARP frame in
  // the same burst must make it look again, exactly as frame-by-frame processing would.
  PipelineHarness h;
  h.learn_gateways();
  const TunnelEntry t = tunnels::proto41_on_link();  // its replies go straight to the client's MAC
  const rte_ether_addr old_mac = addrs::client_lan_mac;
  const rte_ether_addr new_mac = mac("02:00:00:00:77:01");
  h.neighbors.learn(NeighborKey::ipv4(t.client_v4), old_mac);
  h.ctx.next_ipv4_id = 0x100;

  const Bytes data = {1, 2, 3, 4, 5, 6, 7, 8};
  const Bytes request = echo_request(t.client_v6, t.server_v6, 0x77, 1, data, 64);
  const Bytes reply = echo_reply(t.server_v6, t.client_v6, 0x77, 1, data, 64);
  const Bytes moved = ethernet(addrs::v4_port_mac, new_mac, RTE_ETHER_TYPE_ARP,
                               arp(2, new_mac, t.client_v4, addrs::v4_port_mac, addrs::broker_v4));
  const std::vector<Bytes> frames = {client_frame(t, request), client_frame(t, request), moved,
                                     client_frame(t, request)};
  rte_mbuf* pkts[4];
  for (size_t i = 0; i < frames.size(); ++i) pkts[i] = to_mbuf(frames[i]);
  Verdict verdicts[4];
  ExtraPackets extra;
  process_burst(h.ctx, Side::Ipv4, pkts, 4, verdicts, extra);
  std::vector<Bytes> out;
  for (rte_mbuf* m : pkts) {
    out.push_back(to_bytes(m));
    rte_pktmbuf_free(m);
  }
  CHECK(extra.n == 0);
  REQUIRE(verdicts[0].kind == Verdict::Kind::Transmit);
  REQUIRE(verdicts[1].kind == Verdict::Kind::Transmit);
  CHECK(verdicts[2].kind == Verdict::Kind::Exception);
  REQUIRE(verdicts[3].kind == Verdict::Kind::Transmit);
  CHECK(hex(out[0]) == hex(broker_tunnel_frame(t, reply, 0x100, old_mac)));
  CHECK(hex(out[1]) == hex(broker_tunnel_frame(t, reply, 0x101, old_mac)));
  CHECK(hex(out[3]) == hex(broker_tunnel_frame(t, reply, 0x102, new_mac)));
  CHECK(h.counters.keepalive_replies.read() == 3);
}
