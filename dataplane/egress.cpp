#include "dataplane/egress.hpp"

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
  const uint32_t front = tunnel_front_len(tunnel.mode);
  if (!move_front(m, ip_offset, front)) return drop(ctx, DropReason::no_headroom);
  // Resolved first, so that a packet dropped for its next hop does not use up an IPv4 id.
  if (!resolve_ipv4_next_hop(ctx, m, next_hop, extra)) return drop(ctx, DropReason::neighbor_unresolved);

  write_tunnel_header(rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, kEthernetHeaderLen), tunnel, inner_len,
                      ctx.next_ipv4_id++);
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
