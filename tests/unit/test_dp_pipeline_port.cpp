// Through real DPDK ports: two net_ring ports (one per side), a burst fed into each port's RX
// ring, received with rte_eth_rx_burst, run through process_packet as a worker would,
// transmitted with rte_eth_tx_burst, and read back from the other port's TX ring.
#include <catch2/catch.hpp>

#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include <string>
#include <vector>

#include "tests/unit/dp_test_support.hpp"

using namespace tsp;
using namespace tsp::dp;
using namespace tsp::dp::test;

namespace {

struct RingPort {
  uint16_t port_id = 0;
  rte_ring* rx = nullptr;  // what the port receives: the test enqueues here
  rte_ring* tx = nullptr;  // what the port transmits: the test dequeues here
};

RingPort make_ring_port(const std::string& name) {
  RingPort p;
  p.rx = rte_ring_create((name + "_rx").c_str(), 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
  p.tx = rte_ring_create((name + "_tx").c_str(), 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
  REQUIRE(p.rx != nullptr);
  REQUIRE(p.tx != nullptr);
  const int id = rte_eth_from_rings(name.c_str(), &p.rx, 1, &p.tx, 1, SOCKET_ID_ANY);
  REQUIRE(id >= 0);
  p.port_id = static_cast<uint16_t>(id);
  rte_eth_conf conf{};
  REQUIRE(rte_eth_dev_configure(p.port_id, 1, 1, &conf) == 0);
  REQUIRE(rte_eth_rx_queue_setup(p.port_id, 0, 64, SOCKET_ID_ANY, nullptr, test_pool()) == 0);
  REQUIRE(rte_eth_tx_queue_setup(p.port_id, 0, 64, SOCKET_ID_ANY, nullptr) == 0);
  REQUIRE(rte_eth_dev_start(p.port_id) == 0);
  return p;
}

std::vector<Bytes> drain(rte_ring* ring) {
  std::vector<Bytes> frames;
  void* obj = nullptr;
  while (rte_ring_dequeue(ring, &obj) == 0) {
    auto* m = static_cast<rte_mbuf*>(obj);
    frames.push_back(to_bytes(m));
    rte_pktmbuf_free(m);
  }
  return frames;
}

// One poll of one port, as a worker does it; exceptions and drops are only counted here.
void poll_once(PipelineHarness& h, Side side, const RingPort (&ports)[2]) {
  rte_mbuf* burst[32];
  const uint16_t n = rte_eth_rx_burst(ports[static_cast<unsigned>(side)].port_id, 0, burst, 32);
  for (uint16_t i = 0; i < n; ++i) {
    ExtraPackets extra;
    const Verdict v = process_packet(h.ctx, side, burst[i], extra);
    for (unsigned e = 0; e < extra.n; ++e) {
      REQUIRE(rte_eth_tx_burst(ports[static_cast<unsigned>(extra.pkt[e].out)].port_id, 0, &extra.pkt[e].m, 1) == 1);
    }
    if (v.kind == Verdict::Kind::Transmit) {
      REQUIRE(rte_eth_tx_burst(ports[static_cast<unsigned>(v.out)].port_id, 0, &burst[i], 1) == 1);
    } else {
      rte_pktmbuf_free(burst[i]);
    }
  }
}

void feed(const RingPort& port, const std::vector<Bytes>& frames) {
  for (const Bytes& f : frames) REQUIRE(rte_ring_enqueue(port.rx, to_mbuf(f)) == 0);
}

}  // namespace

TEST_CASE("net_ring ports: bursts both ways through process_packet", "[dp][port]") {
  test_pool();  // EAL first
  static const RingPort ports[2] = {make_ring_port("net_ring_tsp_v4"), make_ring_port("net_ring_tsp_v6")};
  PipelineHarness h;
  for (const Side s : {Side::Ipv4, Side::Ipv6}) {
    h.ctx.side[static_cast<unsigned>(s)].port_id = ports[static_cast<unsigned>(s)].port_id;
  }

  const TunnelEntry p41 = tunnels::proto41_slash64();
  const TunnelEntry u = tunnels::udp_slash48();
  const Bytes from_p41 = udp6_packet(v6("2001:db8:20:1::10"), addrs::internet_host, 64, 500);
  const Bytes from_udp = udp6_packet(v6("2001:db8:30:1::10"), addrs::internet_host, 20, 64);
  const Bytes keepalive = echo_request(u.client_v6, u.server_v6, 7, 0, Bytes(16, 0x42));
  const Bytes to_p41 = udp6_packet(addrs::internet_host, v6("2001:db8:20:1::10"), 64, 900);
  const Bytes to_udp = udp6_packet(addrs::internet_host, v6("2001:db8:30:1::10"), 2, 0);

  drain(ports[0].tx);
  drain(ports[1].tx);

  SECTION("from the clients: proto 41, garbage, UDP, a keepalive, ARP") {
    const Bytes arp_request = ethernet(mac("ff:ff:ff:ff:ff:ff"), addrs::v4_gateway_mac, RTE_ETHER_TYPE_ARP,
                                       Bytes{0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0x44, 0xfe, 192, 0, 2, 254,
                                             0, 0, 0, 0, 0, 0, 192, 0, 2, 1});
    h.learn_gateways();
    feed(ports[0], {client_frame(p41, from_p41), Bytes(10, 0), client_frame(u, from_udp), client_frame(u, keepalive),
                    arp_request});
    poll_once(h, Side::Ipv4, ports);

    const std::vector<Bytes> uplink = drain(ports[1].tx);
    REQUIRE(uplink.size() == 2);
    CHECK(hex(uplink[0]) == hex(uplink_out(with_hop_limit(from_p41, 63))));
    CHECK(hex(uplink[1]) == hex(uplink_out(with_hop_limit(from_udp, 19))));
    const std::vector<Bytes> clients = drain(ports[0].tx);
    REQUIRE(clients.size() == 1);
    CHECK(hex(clients[0]) == hex(broker_tunnel_frame(u, echo_reply(u.server_v6, u.client_v6, 7, 0, Bytes(16, 0x42)), 0)));
    CHECK(h.counters.decap.read() == 2);
    CHECK(h.counters.keepalive_replies.read() == 1);
    CHECK(h.counters.exception.read() == 1);
    CHECK(h.only_drop(DropReason::malformed_ethernet));
  }
  SECTION("from the uplink: into both tunnels, and a neighbor solicitation") {
    const rte_ether_addr gw_mac = addrs::v6_gateway_mac;
    Bytes ns_body(4, 0);
    ns_body.insert(ns_body.end(), addrs::broker_v6.bytes.begin(), addrs::broker_v6.bytes.end());
    ns_body.insert(ns_body.end(), {1, 1});
    ns_body.insert(ns_body.end(), gw_mac.addr_bytes, gw_mac.addr_bytes + 6);
    const Bytes ns = icmpv6_packet(addrs::v6_gateway, v6("ff02::1:ff00:1"), 255, 135, 0, ns_body);
    h.learn_gateways();
    feed(ports[1], {uplink_in(to_p41), uplink_in(ns), uplink_in(to_udp)});
    poll_once(h, Side::Ipv6, ports);

    const std::vector<Bytes> clients = drain(ports[0].tx);
    REQUIRE(clients.size() == 2);
    CHECK(hex(clients[0]) == hex(broker_tunnel_frame(p41, with_hop_limit(to_p41, 63), 0)));
    CHECK(hex(clients[1]) == hex(broker_tunnel_frame(u, with_hop_limit(to_udp, 1), 1)));
    CHECK(drain(ports[1].tx).empty());
    CHECK(h.counters.encap.read() == 2);
    CHECK(h.counters.exception.read() == 1);
    CHECK(h.only_drop(DropReason::malformed_ethernet, 0));
  }
  SECTION("unresolved next hop: the request leaves by the port, the packet does not") {
    feed(ports[1], {uplink_in(to_p41)});
    poll_once(h, Side::Ipv6, ports);
    const std::vector<Bytes> clients = drain(ports[0].tx);
    REQUIRE(clients.size() == 1);
    CHECK(clients[0].size() == 42);  // the ARP request for the IPv4 gateway
    CHECK(h.only_drop(DropReason::neighbor_unresolved));
  }
}
