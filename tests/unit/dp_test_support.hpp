// What the dataplane tests share: DPDK's EAL started once per test process (no hugepages, no
// PCI, in memory), an mbuf pool, packet builders written independently of the pipeline (their
// own checksum code), and a harness that runs one frame through process_packet.
#pragma once

#include <rte_ether.h>
#include <rte_mbuf.h>

#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/dataplane.hpp"
#include "dataplane/neighbor_table.hpp"
#include "dataplane/pipeline.hpp"
#include "dataplane/worker_counters.hpp"
#include "shared/net_types.hpp"
#include "shared/rcu.hpp"
#include "shared/tunnel_entry.hpp"
#include "shared/tunnel_table.hpp"

namespace tsp::dp::test {

using Bytes = std::vector<uint8_t>;

// ---- DPDK
// Initialises EAL on first use (throws std::runtime_error with DPDK's reason if it cannot).
rte_mempool* test_pool();
rte_mbuf* to_mbuf(const Bytes& frame);
Bytes to_bytes(const rte_mbuf* m);

// ---- Addresses
Ipv4Addr v4(const char* text);
Ipv6Addr v6(const char* text);
rte_ether_addr mac(const char* text);  // "02:00:00:00:00:01"

// ---- Builders (network byte order, checksums filled in)
uint16_t internet_checksum(const uint8_t* data, size_t len, uint32_t initial_sum = 0);
// The sum of the IPv6 pseudo-header for this packet's addresses, `len` and next header.
uint32_t ipv6_pseudo_sum(const Ipv6Addr& src, const Ipv6Addr& dst, uint32_t len, uint8_t next_header);

Bytes ethernet(const rte_ether_addr& dst, const rte_ether_addr& src, uint16_t ether_type, const Bytes& payload);

struct Ipv4Header {
  Ipv4Addr src, dst;
  uint8_t proto = 41;
  uint8_t ttl = 64;
  uint8_t tos = 0;
  uint16_t id = 0;
  uint16_t flags_fragment = 0;  // DF 0x4000, MF 0x2000, offset in 8-byte units
  Bytes options;                // a multiple of 4 bytes
};
Bytes ipv4(const Ipv4Header& h, const Bytes& payload);
Bytes udp(uint16_t src_port, uint16_t dst_port, const Bytes& payload);  // checksum 0 (IPv4)

// A whole IPv6 packet.
Bytes ipv6(const Ipv6Addr& src, const Ipv6Addr& dst, uint8_t next_header, uint8_t hop_limit, const Bytes& payload);
// A whole IPv6 packet carrying an ICMPv6 message (type, code, then `body` after the checksum).
Bytes icmpv6_packet(const Ipv6Addr& src, const Ipv6Addr& dst, uint8_t hop_limit, uint8_t type, uint8_t code,
                    const Bytes& body);
Bytes echo_request(const Ipv6Addr& src, const Ipv6Addr& dst, uint16_t ident, uint16_t seq, const Bytes& data,
                   uint8_t hop_limit = 64);
Bytes echo_reply(const Ipv6Addr& src, const Ipv6Addr& dst, uint16_t ident, uint16_t seq, const Bytes& data,
                 uint8_t hop_limit = 64);
// A whole IPv6 packet carrying UDP (checksum filled in) with `payload_len` bytes of a pattern.
Bytes udp6_packet(const Ipv6Addr& src, const Ipv6Addr& dst, uint8_t hop_limit, size_t payload_len);
// ICMPv6 error (type, code, 32-bit param) quoting `invoking` cut to fit 1280 bytes.
Bytes icmpv6_error(const Ipv6Addr& src, const Ipv6Addr& dst, uint8_t type, uint8_t code, uint32_t param,
                   const Bytes& invoking);
// True if the ICMPv6 (or UDP/TCP) checksum of a whole IPv6 packet without extension headers holds.
bool ipv6_l4_checksum_ok(const Bytes& packet);

Bytes concat(const Bytes& a, const Bytes& b);
Bytes with_hop_limit(Bytes ipv6_packet, uint8_t hop_limit);
std::string hex(const Bytes& bytes);  // for failure messages: 16 bytes a line

// ---- The test broker
namespace addrs {
extern const rte_ether_addr v4_port_mac, v6_port_mac, v4_gateway_mac, v6_gateway_mac, client_lan_mac;
extern const Ipv4Addr broker_v4, v4_gateway;
extern const Ipv6Addr broker_v6, v6_gateway, internet_host;
}  // namespace addrs

// 192.0.2.1/24 (gateway 192.0.2.254) on the IPv4 port, 2001:db8:ffff::1/64 (gateway fe80::1)
// on the uplink, UDP port 3653.
DataplaneConfig test_config();

// The tunnels of the tests (ids 1..6): see dp_test_support.cpp for their addresses.
namespace tunnels {
TunnelEntry proto41_host();     // #1 v6v4  198.51.100.10, /128 2001:db8:f001:1::2
TunnelEntry proto41_slash64();  // #2 v6v4  198.51.100.20, 2001:db8:f001:1::4 + 2001:db8:20:1::/64
TunnelEntry udp_slash48();      // #3 udp   203.0.113.30:40000, 2001:db8:f001:1::6 + 2001:db8:30::/48
TunnelEntry udp_host();         // #4 udp   203.0.113.40:50000, /128 2001:db8:f001:1::8
TunnelEntry proto41_on_link();  // #5 v6v4  192.0.2.50 (on the IPv4 port's subnet), 2001:db8:f001:1::a
TunnelEntry to_ourselves();     // #6 v6v4  192.0.2.1 (our own address!), 2001:db8:f001:1::c
std::vector<TunnelEntry> all();
}  // namespace tunnels

// The outer frame a client sends for `inner` through `tunnel` (from the gateway's MAC).
Bytes client_frame(const TunnelEntry& tunnel, const Bytes& inner, uint16_t ip_id = 7);
// The frame the broker sends into `tunnel` (IPv4 id, TTL 64, DF clear, Ethernet to `next_hop_mac`).
Bytes broker_tunnel_frame(const TunnelEntry& tunnel, const Bytes& inner, uint16_t ip_id,
                          const rte_ether_addr& next_hop_mac = addrs::v4_gateway_mac);
// A frame on the uplink from the gateway to us, and from us to the gateway.
Bytes uplink_in(const Bytes& ipv6_packet);
Bytes uplink_out(const Bytes& ipv6_packet, const rte_ether_addr& dst = addrs::v6_gateway_mac);

struct Outcome {
  Verdict verdict;
  Bytes frame;  // the mbuf after process_packet (also on Drop)
  std::vector<std::pair<Side, Bytes>> extra;
};

// One worker of the test broker, with every test tunnel published. The test thread is an
// RCU reader while the harness lives (at most one harness at a time per thread).
class PipelineHarness {
 public:
  explicit PipelineHarness(DataplaneConfig config = test_config());
  ~PipelineHarness();
  PipelineHarness(const PipelineHarness&) = delete;
  PipelineHarness& operator=(const PipelineHarness&) = delete;

  // `ol_flags` as a NIC would set them (checksum verdicts).
  Outcome run(Side from, const Bytes& frame, uint64_t ol_flags = 0);
  // Teaches both gateways' MACs (as if they had sent ARP / NA).
  void learn_gateways();
  uint64_t dropped(DropReason reason) const { return counters.drops[static_cast<size_t>(reason)].read(); }
  // Every drop counter is zero except `reason` (counted `times`).
  bool only_drop(DropReason reason, uint64_t times = 1) const;

  DataplaneConfig cfg;
  RcuReaderThread rcu;  // before the table: it is destroyed after it
  TunnelTable table{64};
  NeighborTable neighbors{64};
  WorkerCounters counters{64};
  PipelineContext ctx;
};

}  // namespace tsp::dp::test
