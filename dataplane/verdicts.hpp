// Verdict constructors that count as they decide, so no path can forget a counter.
#pragma once

#include "dataplane/exception_policer.hpp"
#include "dataplane/pipeline.hpp"

namespace tsp::dp {

inline Verdict drop(PipelineContext& ctx, DropReason reason) noexcept {
  ctx.counters->drop(reason);
  return Verdict{Verdict::Kind::Drop, Side::Ipv4, reason};
}

// Into the kernel through `tap_side`'s tap, if `cls` has budget left (exception_policer.hpp).
inline Verdict exception(PipelineContext& ctx, Side tap_side, ExceptionClass cls) noexcept {
  if (!ctx.policer.bucket[static_cast<unsigned>(cls)].take(ctx.now_cycles)) return drop(ctx, policed_reason(cls));
  ctx.counters->exception.add();
  return Verdict{Verdict::Kind::Exception, tap_side, DropReason::malformed_ethernet};
}

// Into the kernel through the IPv4 tap, for a frame to the broker's IPv4 address (not ARP): TSP
// passes its source's share first, so that one host's flood is dropped before it can spend
// the budget every TSP client shares.
inline Verdict ipv4_exception(PipelineContext& ctx, const rte_mbuf* m) noexcept {
  const Ipv4Exception e = ipv4_exception_kind(*ctx.cfg, m);
  if (e.cls == ExceptionClass::Tsp && !ctx.policer.tsp_source.take(e.source, ctx.now_cycles)) {
    return drop(ctx, DropReason::exception_policed_tsp_source);
  }
  return exception(ctx, Side::Ipv4, e.cls);
}

inline Verdict transmit(Side out) noexcept { return Verdict{Verdict::Kind::Transmit, out, DropReason::malformed_ethernet}; }

}  // namespace tsp::dp
