#include "dataplane/pipeline.hpp"

#include <rte_ip.h>
#include <rte_prefetch.h>

#include <cstring>

#include "dataplane/classify.hpp"
#include "dataplane/decap.hpp"
#include "dataplane/decap_fast.hpp"
#include "dataplane/encap_fast.hpp"
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
      return exception(ctx, Side::Ipv4, ExceptionClass::Neighbor);  // the kernel answers ARP for our address
    case Ipv4PortFrame::Kind::Exception:
      return ipv4_exception(ctx, m);
    case Ipv4PortFrame::Kind::Fragment:
      return Verdict{Verdict::Kind::Reassemble, Side::Ipv4, DropReason::ipv4_fragment};
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
      return exception(ctx, Side::Ipv6, ExceptionClass::Neighbor);  // the kernel answers solicitations for our address
    case Ipv6PortFrame::Kind::Exception:
      return exception(ctx, Side::Ipv6, ExceptionClass::Other);
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

// The reference path for a frame whose fast path declined, with the lookups already made.
// Its recognition guarantees the kinds (Tunnel, Forward); the other branches are not reached.
Verdict decap_by_reference(PipelineContext& ctx, rte_mbuf* m, const DecapLookups& found, ExtraPackets& extra) noexcept {
  Ipv4PortFrame frame;
  classify_ipv4_port(*ctx.cfg, m, frame);
  if (frame.kind != Ipv4PortFrame::Kind::Tunnel) return other_ipv4_frame(ctx, m, frame);
  return decapsulate(ctx, m, frame, found, extra);
}

Verdict encap_by_reference(PipelineContext& ctx, rte_mbuf* m, const EncapLookups& found, ExtraPackets& extra) noexcept {
  const Ipv6PortFrame frame = classify_ipv6_port(*ctx.cfg, m);
  if (frame.kind != Ipv6PortFrame::Kind::Forward) return other_ipv6_frame(ctx, m, frame);
  return encapsulate(ctx, m, found, extra);
}

// A frame that no recognition took: the reference path from the start.
Verdict by_reference(PipelineContext& ctx, Side from, rte_mbuf* m, ExtraPackets& extra) noexcept {
  if (!contiguous(m)) return drop(ctx, DropReason::segmented_frame);
  return from == Side::Ipv4 ? from_ipv4_port(ctx, m, extra) : from_ipv6_port(ctx, m, extra);
}

// Decapsulation of a burst: the frames of the common case (decap_fast.hpp) are recognised,
// their keys hashed as they are (and the site filter's words for their inner destinations
// prefetched), then their tunnels looked up stage by stage over the burst; then every frame
// in order, those in straight line, the others (ARP, control traffic, keepalives, anything
// malformed or unusual) by the reference path.
void ipv4_burst(PipelineContext& ctx, rte_mbuf* const* pkts, unsigned n, Verdict* verdicts,
                ExtraPackets& extra) noexcept {
  const TunnelTable& table = *ctx.table;
  const FastDecapConfig fast_cfg(*ctx.cfg);
  FastDecapFrame fast[kMaxBurst];
  TunnelTable::DecapProbe probes[kMaxBurst];
  TunnelTable::SiteProbe inner_dsts[kMaxBurst];
  const TunnelTable::Node* first[kMaxBurst];
  const TunnelEntry* tunnels[kMaxBurst];
  uint8_t fast_frame[kMaxBurst + 1];  // the burst index of each; a sentinel after the last
  unsigned n_fast = 0;
  for (unsigned i = 0; i < n; ++i) {
    if (!recognise_fast_decap(fast_cfg, pkts[i], fast[n_fast])) continue;
    probes[n_fast] = table.probe_decap(fast[n_fast].decap_key);
    inner_dsts[n_fast] = table.site_probe(fast[n_fast].ip + 24);
    fast_frame[n_fast++] = static_cast<uint8_t>(i);
  }
  fast_frame[n_fast] = kMaxBurst;
  for (unsigned k = 0; k < n_fast; ++k) first[k] = table.first_candidate(probes[k]);
  for (unsigned k = 0; k < n_fast; ++k) {
    tunnels[k] = table.decap_match(first[k], probes[k].key);
    if (tunnels[k] == nullptr) continue;
    table.prefetch_seen(*tunnels[k]);
    ctx.counters->prefetch_tunnel(tunnels[k]->id);
  }

  const TunnelTable::SiteFilter site_filter = table.site_filter();
  GatewayHeader gateway(Side::Ipv6);
  const rte_ether_hdr* to_gateway = n_fast > 0 ? gateway.get(ctx) : nullptr;
  ForwardSums sums;
  for (unsigned i = 0, k = 0; i < n; ++i) {
    if (fast_frame[k] != i) {
      verdicts[i] = by_reference(ctx, Side::Ipv4, pkts[i], extra);
      continue;
    }
    const TunnelEntry* tunnel = tunnels[k];
    // RFC 6324 loop check, for a known tunnel: nearly every inner destination is on the
    // Internet, which the site filter rules out without a lookup.
    const TunnelEntry* loop = nullptr;
    if (tunnel != nullptr && site_filter.may_hold(inner_dsts[k])) {
      loop = table.find_encap(to_ipv6(reinterpret_cast<const rte_ipv6_hdr*>(fast[k].ip)->dst_addr));
    }
    if (try_fast_decap(ctx, pkts[i], fast[k], tunnel, loop, to_gateway, sums)) {
      verdicts[i] = transmit(Side::Ipv6);
    } else {
      const DecapLookups found{tunnel, loop, tunnel != nullptr};
      verdicts[i] = decap_by_reference(ctx, pkts[i], found, extra);
    }
    ++k;
  }
  ctx.counters->decap.add(sums.packets);
  ctx.counters->decap_bytes.add(sums.bytes);
}

// Encapsulation of a burst: the frames of the common case (encap_fast.hpp) are recognised,
// their routes (destinations) and spoofing checks (sources) looked up in one bulk call; a
// source goes only if the site filter cannot rule it out (an Internet host's, nearly always,
// it does). Then every frame in order, as for decapsulation.
void ipv6_burst(PipelineContext& ctx, rte_mbuf* const* pkts, unsigned n, Verdict* verdicts,
                ExtraPackets& extra) noexcept {
  const TunnelTable& table = *ctx.table;
  const FastEncapConfig fast_cfg(*ctx.cfg);
  constexpr uint8_t kNoLookup = 0xFF;
  uint32_t ip_lens[kMaxBurst];
  TunnelTable::SiteProbe sources[kMaxBurst];
  uint8_t source_slot[kMaxBurst];  // where the source's answer is in `found`, or kNoLookup
  Ipv6Addr addrs[2 * kMaxBurst];   // the destination of each recognised frame, then the sources to look up
  const TunnelEntry* found[2 * kMaxBurst];
  uint8_t fast_frame[kMaxBurst + 1];  // the burst index of each; a sentinel after the last
  unsigned n_fast = 0;
  for (unsigned i = 0; i < n; ++i) {
    const uint32_t ip_len = recognise_fast_encap(fast_cfg, pkts[i]);
    if (ip_len == 0) continue;
    const auto* ip = rte_pktmbuf_mtod_offset(pkts[i], const rte_ipv6_hdr*, kEthernetHeaderLen);
    std::memcpy(addrs[n_fast].bytes.data(), ip->dst_addr, 16);
    sources[n_fast] = table.site_probe(ip->src_addr);
    ip_lens[n_fast] = ip_len;
    fast_frame[n_fast++] = static_cast<uint8_t>(i);
  }
  fast_frame[n_fast] = kMaxBurst;
  // The filter's words were prefetched above.
  const TunnelTable::SiteFilter site_filter = table.site_filter();
  unsigned n_addrs = n_fast;
  for (unsigned k = 0; k < n_fast; ++k) {
    source_slot[k] = kNoLookup;
    if (!site_filter.may_hold(sources[k])) continue;
    source_slot[k] = static_cast<uint8_t>(n_addrs);
    std::memcpy(addrs[n_addrs++].bytes.data(),
                rte_pktmbuf_mtod_offset(pkts[fast_frame[k]], const rte_ipv6_hdr*, kEthernetHeaderLen)->src_addr, 16);
  }
  table.find_encap_bulk(addrs, n_addrs, found);
  for (unsigned k = 0; k < n_fast; ++k) {
    if (found[k] != nullptr) ctx.counters->prefetch_tunnel(found[k]->id);
  }

  GatewayHeader gateway(Side::Ipv4);
  const rte_ether_hdr* to_gateway = n_fast > 0 ? gateway.get(ctx) : nullptr;
  ForwardSums sums;
  for (unsigned i = 0, k = 0; i < n; ++i) {
    if (fast_frame[k] != i) {
      verdicts[i] = by_reference(ctx, Side::Ipv6, pkts[i], extra);
      continue;
    }
    const EncapLookups lookups{found[k], source_slot[k] == kNoLookup ? nullptr : found[source_slot[k]]};
    verdicts[i] = try_fast_encap(ctx, fast_cfg, pkts[i], ip_lens[k], lookups, to_gateway, sums)
                      ? transmit(Side::Ipv4)
                      : encap_by_reference(ctx, pkts[i], lookups, extra);
    ++k;
  }
  ctx.counters->encap.add(sums.packets);
  ctx.counters->encap_bytes.add(sums.bytes);
}

}  // namespace

Verdict process_packet(PipelineContext& ctx, Side from, rte_mbuf* m, ExtraPackets& extra) {
  ctx.forget_neighbors();  // a packet on its own is a burst of one
  return by_reference(ctx, from, m, extra);
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
