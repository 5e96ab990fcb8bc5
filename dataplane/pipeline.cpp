#include "dataplane/pipeline.hpp"

#include "dataplane/classify.hpp"
#include "dataplane/decap.hpp"
#include "dataplane/encap.hpp"
#include "dataplane/neighbor_resolve.hpp"
#include "dataplane/verdicts.hpp"

namespace tsp::dp {

namespace {

Verdict from_ipv4_port(PipelineContext& ctx, rte_mbuf* m, ExtraPackets& extra) noexcept {
  const Ipv4PortFrame frame = classify_ipv4_port(*ctx.cfg, m);
  switch (frame.kind) {
    case Ipv4PortFrame::Kind::Tunnel:
      return decapsulate(ctx, m, frame, extra);
    case Ipv4PortFrame::Kind::Arp:
      learn_from_arp(ctx, m);
      return exception(ctx, Side::Ipv4);  // the kernel answers ARP for the broker's address
    case Ipv4PortFrame::Kind::Exception:
      return exception(ctx, Side::Ipv4);
    case Ipv4PortFrame::Kind::Drop:
      break;
  }
  return drop(ctx, frame.reason);
}

Verdict from_ipv6_port(PipelineContext& ctx, rte_mbuf* m, ExtraPackets& extra) noexcept {
  const Ipv6PortFrame frame = classify_ipv6_port(*ctx.cfg, m);
  switch (frame.kind) {
    case Ipv6PortFrame::Kind::Forward:
      return encapsulate(ctx, m, extra);
    case Ipv6PortFrame::Kind::Neighbor:
      learn_from_neighbor_discovery(ctx, m);
      return exception(ctx, Side::Ipv6);  // the kernel answers solicitations for our address
    case Ipv6PortFrame::Kind::Exception:
      return exception(ctx, Side::Ipv6);
    case Ipv6PortFrame::Kind::Drop:
      break;
  }
  return drop(ctx, frame.reason);
}

}  // namespace

Verdict process_packet(PipelineContext& ctx, Side from, rte_mbuf* m, ExtraPackets& extra) {
  // Every stage reads headers straight from the first segment.
  if (!rte_pktmbuf_is_contiguous(m) && rte_pktmbuf_linearize(m) != 0) return drop(ctx, DropReason::segmented_frame);
  return from == Side::Ipv4 ? from_ipv4_port(ctx, m, extra) : from_ipv6_port(ctx, m, extra);
}

}  // namespace tsp::dp
