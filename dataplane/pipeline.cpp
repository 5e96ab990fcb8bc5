#include "dataplane/pipeline.hpp"

#include <rte_ip.h>
#include <rte_prefetch.h>

#include <cstring>

#include "dataplane/classify.hpp"
#include "dataplane/decap.hpp"
#include "dataplane/decap_fast.hpp"
#include "dataplane/encap.hpp"
#include "dataplane/fast_path.hpp"
#include "dataplane/neighbor_resolve.hpp"
#include "dataplane/verdicts.hpp"

namespace tsp::dp {

namespace {

// Every stage reads headers straight from the first segment.
bool contiguous(rte_mbuf* m) noexcept { return rte_pktmbuf_is_contiguous(m) || rte_pktmbuf_linearize(m) == 0; }

// Frames that are not tunnel data (or forwarding) in the burst path: the same as process_packet.
Verdict other_ipv4_frame(PipelineContext& ctx, rte_mbuf* m, const Ipv4PortFrame& frame) noexcept {
  switch (frame.kind) {
    case Ipv4PortFrame::Kind::Arp:
      learn_from_arp(ctx, m);
      ctx.forget_neighbors();  // what it taught must count for the rest of the burst
      return exception(ctx, Side::Ipv4);  // the kernel answers ARP for the broker's address
    case Ipv4PortFrame::Kind::Exception:
      return exception(ctx, Side::Ipv4);
    case Ipv4PortFrame::Kind::Tunnel:  // not reached: the callers decapsulate
    case Ipv4PortFrame::Kind::Drop:
      break;
  }
  return drop(ctx, frame.reason);
}

Verdict other_ipv6_frame(PipelineContext& ctx, rte_mbuf* m, const Ipv6PortFrame& frame) noexcept {
  switch (frame.kind) {
    case Ipv6PortFrame::Kind::Neighbor:
      learn_from_neighbor_discovery(ctx, m);
      ctx.forget_neighbors();
      return exception(ctx, Side::Ipv6);  // the kernel answers solicitations for our address
    case Ipv6PortFrame::Kind::Exception:
      return exception(ctx, Side::Ipv6);
    case Ipv6PortFrame::Kind::Forward:  // not reached: the callers encapsulate
    case Ipv6PortFrame::Kind::Drop:
      break;
  }
  return drop(ctx, frame.reason);
}

Verdict from_ipv4_port(PipelineContext& ctx, rte_mbuf* m, ExtraPackets& extra) noexcept {
  const Ipv4PortFrame frame = classify_ipv4_port(*ctx.cfg, m);
  if (frame.kind == Ipv4PortFrame::Kind::Tunnel) return decapsulate(ctx, m, frame, extra);
  return other_ipv4_frame(ctx, m, frame);
}

Verdict from_ipv6_port(PipelineContext& ctx, rte_mbuf* m, ExtraPackets& extra) noexcept {
  const Ipv6PortFrame frame = classify_ipv6_port(*ctx.cfg, m);
  if (frame.kind == Ipv6PortFrame::Kind::Forward) return encapsulate(ctx, m, extra);
  return other_ipv6_frame(ctx, m, frame);
}

Ipv6Addr address_at(const uint8_t* p) noexcept {
  Ipv6Addr a;
  std::memcpy(a.bytes.data(), p, 16);
  return a;
}

// The answer to a lookup the site filter made unnecessary: a slot that stays nullptr.
const TunnelEntry* const kNoEntry = nullptr;

// A frame that decap_fast.hpp recognised, once its tunnel is known: the tunnel-dependent
// checks of decapsulate (RFC 6324 loop check, the inner source against the tunnel's
// addresses, the gateway's MAC) and, if all pass, what decapsulate would write, in straight
// line. Otherwise decapsulate itself, with what was looked up.
[[gnu::always_inline]] inline Verdict finish_fast_decap(PipelineContext& ctx, rte_mbuf* m, const FastDecapFrame& f,
                                                        const TunnelEntry* tunnel, TunnelTable::SiteProbe inner_dst,
                                                        GatewayHeader& to_gateway, ForwardSums& sums,
                                                        ExtraPackets& extra) noexcept {
  const TunnelTable& table = *ctx.table;
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv6_hdr*, f.ip_offset);
  DecapLookups found;
  found.tunnel = tunnel;
  if (tunnel != nullptr) {
    // Nearly every inner destination is on the Internet, which the site filter rules out.
    found.inner_dst_looked_up = true;
    if (table.may_find_encap(inner_dst)) found.inner_dst_tunnel = table.find_encap(to_ipv6(ip->dst_addr));
    const rte_ether_hdr* header;
    if (found.inner_dst_tunnel == nullptr && source_belongs_to(*tunnel, ip->src_addr) &&
        (header = to_gateway.get(ctx)) != nullptr) {
      if (table.last_seen(tunnel->id) != ctx.now) table.stamp_last_seen(tunnel->id, ctx.now);
      ctx.counters->tunnel_in(tunnel->id, f.ip_len);
      --ip->hop_limits;
      reframe(m, f.ip_offset, kEthernetHeaderLen, f.ip_len);
      std::memcpy(rte_pktmbuf_mtod(m, void*), header, sizeof *header);
      ++sums.packets;
      sums.bytes += f.ip_len;
      return transmit(Side::Ipv6);
    }
  }
  Ipv4PortFrame frame;
  classify_ipv4_port(*ctx.cfg, m, frame);
  if (frame.kind != Ipv4PortFrame::Kind::Tunnel) return other_ipv4_frame(ctx, m, frame);  // not reached
  return decapsulate(ctx, m, frame, found, extra);
}

// Decapsulation of a burst: the frames of the common case (decap_fast.hpp) are recognised and
// their tunnels looked up together, and the site filter's words for their inner destinations
// prefetched; then every frame in order, those in straight line, the others (ARP, control
// traffic, keepalives, anything malformed or unusual) by the reference path.
void ipv4_burst(PipelineContext& ctx, rte_mbuf* const* pkts, unsigned n, Verdict* verdicts,
                ExtraPackets& extra) noexcept {
  const TunnelTable& table = *ctx.table;
  const FastDecapConfig fast_cfg(*ctx.cfg);
  FastDecapFrame fast[kMaxBurst];
  TunnelTable::DecapKey keys[kMaxBurst];
  TunnelTable::SiteProbe inner_dsts[kMaxBurst];
  const TunnelEntry* tunnels[kMaxBurst];
  uint8_t fast_frame[kMaxBurst + 1];  // the burst index of each; a sentinel after the last
  unsigned n_fast = 0;
  for (unsigned i = 0; i < n; ++i) {
    if (!recognise_fast_decap(fast_cfg, pkts[i], keys[n_fast], fast[n_fast])) continue;
    inner_dsts[n_fast] = table.site_probe(rte_pktmbuf_mtod_offset(pkts[i], const uint8_t*, fast[n_fast].ip_offset + 24));
    fast_frame[n_fast++] = static_cast<uint8_t>(i);
  }
  fast_frame[n_fast] = kMaxBurst;
  table.find_decap_bulk(keys, n_fast, tunnels);
  for (unsigned k = 0; k < n_fast; ++k) {
    if (tunnels[k] == nullptr) continue;
    table.prefetch_last_seen(tunnels[k]->id);
    ctx.counters->prefetch_tunnel(tunnels[k]->id);
  }

  GatewayHeader to_gateway(Side::Ipv6);
  ForwardSums sums;
  unsigned k = 0;
  for (unsigned i = 0; i < n; ++i) {
    if (fast_frame[k] == i) {
      verdicts[i] = finish_fast_decap(ctx, pkts[i], fast[k], tunnels[k], inner_dsts[k], to_gateway, sums, extra);
      ++k;
    } else if (!contiguous(pkts[i])) {
      verdicts[i] = drop(ctx, DropReason::segmented_frame);
    } else {
      verdicts[i] = from_ipv4_port(ctx, pkts[i], extra);
    }
  }
  ctx.counters->decap.add(sums.packets);
  ctx.counters->decap_bytes.add(sums.bytes);
}

// Encapsulation of a burst: the route (destination) and spoofing (source) lookups of every
// frame to forward go in one bulk call; a source goes only if the site filter cannot rule it
// out (an Internet host's, nearly always, it does).
void ipv6_burst(PipelineContext& ctx, rte_mbuf* const* pkts, unsigned n, Verdict* verdicts,
                ExtraPackets& extra) noexcept {
  const TunnelTable& table = *ctx.table;
  Ipv6PortFrame frames[kMaxBurst];
  bool linear[kMaxBurst];
  Ipv6Addr addrs[2 * kMaxBurst];  // the destination of each forwarded frame, then the sources that may be a tunnel's
  const TunnelEntry* found_by_addr[2 * kMaxBurst];
  TunnelTable::SiteProbe site_probes[kMaxBurst];
  // Where each frame's answers will be: nullptr for a frame not to forward, &kNoEntry for a
  // source the site filter ruled out.
  const TunnelEntry* const* dst_tunnel_of[kMaxBurst];
  const TunnelEntry* const* src_tunnel_of[kMaxBurst];
  unsigned n_addrs = 0;
  for (unsigned i = 0; i < n; ++i) {
    dst_tunnel_of[i] = nullptr;
    linear[i] = contiguous(pkts[i]);
    if (!linear[i]) continue;
    frames[i] = classify_ipv6_port(*ctx.cfg, pkts[i]);
    if (frames[i].kind != Ipv6PortFrame::Kind::Forward) continue;
    const auto* ip = rte_pktmbuf_mtod_offset(pkts[i], const rte_ipv6_hdr*, kEthernetHeaderLen);
    dst_tunnel_of[i] = &found_by_addr[n_addrs];
    addrs[n_addrs++] = address_at(ip->dst_addr);
    site_probes[i] = table.site_probe(ip->src_addr);
  }
  // The filter's words were prefetched above.
  for (unsigned i = 0; i < n; ++i) {
    if (dst_tunnel_of[i] == nullptr) continue;
    if (table.may_find_encap(site_probes[i])) {
      src_tunnel_of[i] = &found_by_addr[n_addrs];
      addrs[n_addrs++] = address_at(rte_pktmbuf_mtod_offset(pkts[i], const rte_ipv6_hdr*, kEthernetHeaderLen)->src_addr);
    } else {
      src_tunnel_of[i] = &kNoEntry;
    }
  }
  table.find_encap_bulk(addrs, n_addrs, found_by_addr);
  for (unsigned i = 0; i < n; ++i) {
    if (dst_tunnel_of[i] != nullptr && *dst_tunnel_of[i] != nullptr) {
      ctx.counters->prefetch_tunnel((*dst_tunnel_of[i])->id);
    }
  }

  GatewayHeader to_gateway(Side::Ipv4);
  ForwardSums sums;
  for (unsigned i = 0; i < n; ++i) {
    if (dst_tunnel_of[i] != nullptr &&
        try_fast_encap(ctx, pkts[i], *dst_tunnel_of[i], *src_tunnel_of[i], to_gateway, sums)) {
      verdicts[i] = transmit(Side::Ipv4);
      continue;
    }
    if (!linear[i]) {
      verdicts[i] = drop(ctx, DropReason::segmented_frame);
    } else if (dst_tunnel_of[i] == nullptr) {
      verdicts[i] = other_ipv6_frame(ctx, pkts[i], frames[i]);
    } else {
      verdicts[i] = encapsulate(ctx, pkts[i], EncapLookups{*dst_tunnel_of[i], *src_tunnel_of[i]}, extra);
    }
  }
  ctx.counters->encap.add(sums.packets);
  ctx.counters->encap_bytes.add(sums.bytes);
}

}  // namespace

Verdict process_packet(PipelineContext& ctx, Side from, rte_mbuf* m, ExtraPackets& extra) {
  ctx.forget_neighbors();  // a packet on its own is a burst of one
  if (!contiguous(m)) return drop(ctx, DropReason::segmented_frame);
  return from == Side::Ipv4 ? from_ipv4_port(ctx, m, extra) : from_ipv6_port(ctx, m, extra);
}

void process_burst(PipelineContext& ctx, Side from, rte_mbuf* const* pkts, unsigned n, Verdict* verdicts,
                   ExtraPackets& extra) {
  while (n > 0) {
    const unsigned chunk = n < kMaxBurst ? n : kMaxBurst;
    ctx.forget_neighbors();
    for (unsigned i = 0; i < chunk; ++i) {
      // Both lines: a tunnel frame's inner IPv6 header straddles the first line's end.
      const auto* data = rte_pktmbuf_mtod(pkts[i], const char*);
      rte_prefetch0(data);
      rte_prefetch0(data + RTE_CACHE_LINE_SIZE);
    }
    if (from == Side::Ipv4) {
      ipv4_burst(ctx, pkts, chunk, verdicts, extra);
    } else {
      ipv6_burst(ctx, pkts, chunk, verdicts, extra);
    }
    pkts += chunk;
    verdicts += chunk;
    n -= chunk;
  }
}

}  // namespace tsp::dp
