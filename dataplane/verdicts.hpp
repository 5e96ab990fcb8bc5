// Verdict constructors that count as they decide, so no path can forget a counter.
#pragma once

#include "dataplane/pipeline.hpp"

namespace tsp::dp {

inline Verdict drop(PipelineContext& ctx, DropReason reason) noexcept {
  ctx.counters->drop(reason);
  return Verdict{Verdict::Kind::Drop, Side::Ipv4, reason};
}

inline Verdict exception(PipelineContext& ctx, Side tap_side) noexcept {
  ctx.counters->exception.add();
  return Verdict{Verdict::Kind::Exception, tap_side, DropReason::malformed_ethernet};
}

inline Verdict transmit(Side out) noexcept { return Verdict{Verdict::Kind::Transmit, out, DropReason::malformed_ethernet}; }

}  // namespace tsp::dp
