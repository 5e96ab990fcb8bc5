// Per-tunnel figures start from zero for the tunnel that takes over an id.
#include <catch2/catch.hpp>

#include "dataplane/tunnel_stats_baseline.hpp"

using tsp::dp::TunnelStats;
using tsp::dp::TunnelStatsBaseline;

namespace {
bool equal(const TunnelStats& a, const TunnelStats& b) {
  return a.packets_in == b.packets_in && a.bytes_in == b.bytes_in && a.packets_out == b.packets_out &&
         a.bytes_out == b.bytes_out;
}
}  // namespace

TEST_CASE("tunnel stats baseline: a reused id reports only what its new tunnel did", "[dp][counters]") {
  TunnelStatsBaseline base(4);
  const TunnelStats before{10, 1000, 20, 2000};  // the slot's sums when the first tunnel left
  CHECK(equal(base.since_restart(1, before), before));  // never restarted: everything
  base.restart(1, before);
  CHECK(equal(base.since_restart(1, before), TunnelStats{}));
  CHECK(equal(base.since_restart(1, TunnelStats{13, 1300, 21, 2100}), TunnelStats{3, 300, 1, 100}));
  CHECK(equal(base.since_restart(2, before), before));  // other ids untouched
  // Out of range: ignored, and never below zero.
  base.restart(9, before);
  CHECK(equal(base.since_restart(9, before), before));
  CHECK(equal(base.since_restart(1, TunnelStats{1, 1, 1, 1}), TunnelStats{}));
}
