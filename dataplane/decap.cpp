#include "dataplane/decap.hpp"

#include <rte_ether.h>
#include <rte_ip.h>

#include "dataplane/addr_match.hpp"
#include "dataplane/byte_order.hpp"
#include "dataplane/egress.hpp"
#include "dataplane/icmpv6.hpp"
#include "dataplane/packet_edit.hpp"
#include "dataplane/verdicts.hpp"

namespace tsp::dp {

namespace {

const TunnelEntry* find_tunnel(const TunnelTable& table, const Ipv4PortFrame& outer) noexcept {
  return outer.mode == TunnelMode::V6V4 ? table.find_decap_proto41(outer.outer_src)
                                        : table.find_decap_udp(outer.outer_src, outer.outer_src_port);
}

// Into the IPv6 tap: the kernel holds the broker's IPv6 address.
Verdict to_broker(PipelineContext& ctx, rte_mbuf* m, uint32_t ip_offset) noexcept {
  if (!move_front(m, ip_offset, kEthernetHeaderLen)) return drop(ctx, DropReason::no_headroom);
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  eth->dst_addr = ctx.side[static_cast<unsigned>(Side::Ipv6)].mac;
  eth->src_addr = ctx.side[static_cast<unsigned>(Side::Ipv4)].mac;  // it came from the tunnel side
  eth->ether_type = be16(RTE_ETHER_TYPE_IPV6);
  return exception(ctx, Side::Ipv6, ExceptionClass::Other);
}

}  // namespace

Verdict decapsulate(PipelineContext& ctx, rte_mbuf* m, const Ipv4PortFrame& outer, ExtraPackets& extra) noexcept {
  DecapLookups found;
  found.tunnel = find_tunnel(*ctx.table, outer);
  return decapsulate(ctx, m, outer, found, extra);
}

Verdict decapsulate(PipelineContext& ctx, rte_mbuf* m, const Ipv4PortFrame& outer, const DecapLookups& found,
                    ExtraPackets& extra) noexcept {
  const TunnelTable& table = *ctx.table;
  const TunnelEntry* tunnel = found.tunnel;
  if (tunnel == nullptr) return drop(ctx, DropReason::no_tunnel);

  const uint32_t ip_offset = outer.inner_offset;
  if (outer.inner_len < kIpv6HeaderLen) return drop(ctx, DropReason::inner_not_ipv6);
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv6_hdr*, ip_offset);
  if ((be32(ip->vtc_flow) >> 28) != 6) return drop(ctx, DropReason::inner_not_ipv6);
  const uint32_t ip_len = kIpv6HeaderLen + be16(ip->payload_len);
  if (ip_len > outer.inner_len) return drop(ctx, DropReason::malformed_ipv6);
  keep_first(m, ip_offset + ip_len);

  // gogoc sends router solicitations and MLD from its TUN link-local address: not spoofing,
  // but nothing a router forwards either.
  if (ipv6_is_link_local(ip->src_addr) || ipv6_is_link_local(ip->dst_addr) || ipv6_is_multicast(ip->dst_addr)) {
    return drop(ctx, DropReason::link_local_or_multicast);
  }
  if (!source_belongs_to(*tunnel, ip->src_addr)) return drop(ctx, DropReason::inner_source_spoofed);

  // The only shared write of the fast path, at most once per tunnel per second.
  table.mark_seen(*tunnel, ctx.now);
  ctx.counters->tunnel_in(tunnel->id, ip_len);

  // The packet first: server_v6 lies in the node's second cache line, which data packets of a
  // host tunnel need not touch.
  if (is_echo_request(ip, ip_len) && ipv6_equal(ip->dst_addr, tunnel->server_v6)) {
    turn_into_echo_reply(ip);
    ctx.counters->keepalive_replies.add();
    return send_into_tunnel(ctx, m, ip_offset, *tunnel, extra);
  }
  // RFC 6324: a packet from one tunnel never goes straight back into a tunnel.
  const TunnelEntry* dst_tunnel =
      found.inner_dst_looked_up ? found.inner_dst_tunnel : table.find_encap(to_ipv6(ip->dst_addr));
  if (dst_tunnel != nullptr) return drop(ctx, DropReason::tunnel_loop);
  if (ipv6_equal(ip->dst_addr, ctx.cfg->ipv6_address)) return to_broker(ctx, m, ip_offset);

  if (ip->hop_limits <= 1) {
    const Icmpv6Error error{kIcmpv6TimeExceeded, 0, 0, &tunnel->server_v6};
    if (!build_icmpv6_error(ctx, m, ip_offset, tunnel_front_len(tunnel->mode), error)) {
      return drop(ctx, DropReason::hop_limit_exceeded);
    }
    ctx.counters->drop(DropReason::hop_limit_exceeded);  // the packet is gone, its error leaves
    return send_into_tunnel(ctx, m, tunnel_front_len(tunnel->mode), *tunnel, extra);
  }
  --ip->hop_limits;
  const Verdict verdict = send_to_uplink(ctx, m, ip_offset, extra);
  if (verdict.kind == Verdict::Kind::Transmit) {
    ctx.counters->decap.add();
    ctx.counters->decap_bytes.add(ip_len);
  }
  return verdict;
}

}  // namespace tsp::dp
