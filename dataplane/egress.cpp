#include "dataplane/egress.hpp"

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include <cstring>

#include "dataplane/addr_match.hpp"
#include "dataplane/checksum.hpp"
#include "dataplane/neighbor_resolve.hpp"
#include "dataplane/packet_edit.hpp"
#include "dataplane/verdicts.hpp"

namespace tsp::dp {

Verdict send_into_tunnel(PipelineContext& ctx, rte_mbuf* m, uint32_t ip_offset, const TunnelEntry& tunnel,
                         ExtraPackets& extra) noexcept {
  const DataplaneConfig& cfg = *ctx.cfg;
  Ipv4Addr next_hop = tunnel.client_v4;
  if (!ipv4_in_subnet(tunnel.client_v4, cfg.ipv4_address, cfg.ipv4_prefix_len)) {
    if (!cfg.ipv4_gateway) return drop(ctx, DropReason::no_gateway);
    next_hop = *cfg.ipv4_gateway;
  }

  const uint32_t inner_len = rte_pktmbuf_pkt_len(m) - ip_offset;
  const bool udp = tunnel.mode == TunnelMode::V6UDPV4;
  const uint32_t front = tunnel_front_len(tunnel.mode);
  if (!move_front(m, ip_offset, front)) return drop(ctx, DropReason::no_headroom);
  // Resolved first, so that a packet dropped for its next hop does not use up an IPv4 id.
  if (!resolve_ipv4_next_hop(ctx, m, next_hop, extra)) return drop(ctx, DropReason::neighbor_unresolved);

  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, kEthernetHeaderLen);
  const auto total_length = static_cast<uint16_t>(front - kEthernetHeaderLen + inner_len);
  const uint16_t id = ctx.next_ipv4_id++;
  constexpr uint8_t kTtl = 64;
  const uint8_t proto = udp ? IPPROTO_UDP : IPPROTO_IPV6;
  ip->version_ihl = RTE_IPV4_VHL_DEF;
  ip->type_of_service = 0;
  ip->total_length = rte_cpu_to_be_16(total_length);
  ip->packet_id = rte_cpu_to_be_16(id);
  ip->fragment_offset = 0;  // DF clear: a router on the way may fragment rather than drop
  ip->time_to_live = kTtl;
  ip->next_proto_id = proto;
  ip->src_addr = rte_cpu_to_be_32(tunnel.server_v4.value);
  ip->dst_addr = rte_cpu_to_be_32(tunnel.client_v4.value);
  ip->hdr_checksum =
      ipv4_header_checksum_of(total_length, id, 0, kTtl, proto, tunnel.server_v4.value, tunnel.client_v4.value);
  if (udp) {
    auto* uh = reinterpret_cast<rte_udp_hdr*>(ip + 1);
    uh->src_port = rte_cpu_to_be_16(tunnel.server_port);
    uh->dst_port = rte_cpu_to_be_16(tunnel.client_port);
    uh->dgram_len = rte_cpu_to_be_16(static_cast<uint16_t>(kUdpHeaderLen + inner_len));
    uh->dgram_cksum = 0;  // optional over IPv4 (RFC 768); the inner packet has its own
  }

  ctx.counters->tunnel_out(tunnel.id, inner_len);
  return transmit(Side::Ipv4);
}

Verdict send_to_uplink(PipelineContext& ctx, rte_mbuf* m, uint32_t ip_offset, ExtraPackets& extra) noexcept {
  const DataplaneConfig& cfg = *ctx.cfg;
  const auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv6_hdr*, ip_offset);
  const uint8_t* next_hop = ip->dst_addr;
  if (!ipv6_in_prefix(ip->dst_addr, cfg.ipv6_address.bytes.data(), cfg.ipv6_prefix_len)) {
    if (!cfg.ipv6_gateway) return drop(ctx, DropReason::no_gateway);
    next_hop = cfg.ipv6_gateway->bytes.data();
  }
  uint8_t next_hop_bytes[16];
  std::memcpy(next_hop_bytes, next_hop, 16);  // the Ethernet header may overwrite the old one

  if (!move_front(m, ip_offset, kEthernetHeaderLen)) return drop(ctx, DropReason::no_headroom);
  if (!resolve_ipv6_next_hop(ctx, m, next_hop_bytes, extra)) return drop(ctx, DropReason::neighbor_unresolved);
  return transmit(Side::Ipv6);
}

}  // namespace tsp::dp
