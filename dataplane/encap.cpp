#include "dataplane/encap.hpp"

#include <rte_ip.h>

#include <algorithm>

#include "dataplane/addr_match.hpp"
#include "dataplane/classify.hpp"
#include "dataplane/egress.hpp"
#include "dataplane/icmpv6.hpp"
#include "dataplane/verdicts.hpp"

namespace tsp::dp {

namespace {

// Hop limit and MTU errors go back to the sender by the uplink, from the broker's address;
// the offending packet is dropped under `reason` either way.
Verdict answer_with_error(PipelineContext& ctx, rte_mbuf* m, const Icmpv6Error& error, DropReason reason,
                          ExtraPackets& extra) noexcept {
  if (!build_icmpv6_error(ctx, m, kEthernetHeaderLen, kEthernetHeaderLen, error)) return drop(ctx, reason);
  ctx.counters->drop(reason);
  return send_to_uplink(ctx, m, kEthernetHeaderLen, extra);
}

}  // namespace

Verdict encapsulate(PipelineContext& ctx, rte_mbuf* m, ExtraPackets& extra) noexcept {
  const TunnelTable& table = *ctx.table;
  const auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv6_hdr*, kEthernetHeaderLen);
  EncapLookups found;
  found.dst_tunnel = table.find_encap(to_ipv6(ip->dst_addr));
  // Only a routed packet needs the second lookup.
  if (found.dst_tunnel != nullptr) found.src_tunnel = table.find_encap(to_ipv6(ip->src_addr));
  return encapsulate(ctx, m, found, extra);
}

Verdict encapsulate(PipelineContext& ctx, rte_mbuf* m, const EncapLookups& found, ExtraPackets& extra) noexcept {
  const DataplaneConfig& cfg = *ctx.cfg;
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv6_hdr*, kEthernetHeaderLen);
  const uint32_t ip_len = rte_pktmbuf_pkt_len(m) - kEthernetHeaderLen;

  // RFC 4291 §2.5.6: a link-local source never leaves its link (a multicast one is invalid).
  if (ipv6_is_link_local(ip->src_addr) || ipv6_is_multicast(ip->src_addr)) {
    return drop(ctx, DropReason::link_local_or_multicast);
  }
  const TunnelEntry* tunnel = found.dst_tunnel;
  if (tunnel == nullptr) return drop(ctx, DropReason::no_route);
  // Checked before any ICMPv6 error, so that a forged packet cannot aim one at a client.
  if (found.src_tunnel != nullptr) return drop(ctx, DropReason::inner_source_spoofed);
  if (points_back_at_us(cfg, *tunnel)) return drop(ctx, DropReason::tunnel_loop);

  if (ip->hop_limits <= 1) {
    return answer_with_error(ctx, m, Icmpv6Error{kIcmpv6TimeExceeded, 0, 0, &cfg.ipv6_address},
                             DropReason::hop_limit_exceeded, extra);
  }
  const uint32_t mtu = std::max(tunnel->mtu, kMinTunnelMtu);
  if (ip_len > mtu) {
    return answer_with_error(ctx, m, Icmpv6Error{kIcmpv6PacketTooBig, 0, mtu, &cfg.ipv6_address},
                             DropReason::too_big, extra);
  }
  --ip->hop_limits;
  const Verdict verdict = send_into_tunnel(ctx, m, kEthernetHeaderLen, *tunnel, extra);
  if (verdict.kind == Verdict::Kind::Transmit) {
    ctx.counters->encap.add();
    ctx.counters->encap_bytes.add(ip_len);
  }
  return verdict;
}

}  // namespace tsp::dp
