// Per-tunnel traffic belongs to a table slot (the tunnel id), and ids are reused: a tunnel
// that takes over a slot must not inherit its predecessor's packets and bytes. The workers'
// counters never go back (they have one writer each, the worker); instead the control plane
// records the slot's sums when a new tunnel takes it, and reports what was counted since.
// DPDK-free: read and written by control-plane threads only, under its own lock.
#pragma once

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <vector>

#include "dataplane/dataplane.hpp"

namespace tsp::dp {

class TunnelStatsBaseline {
 public:
  explicit TunnelStatsBaseline(uint32_t max_tunnels) : base_(max_tunnels) {}

  // `sums_now`: the slot's counters summed over workers at the moment it changes hands.
  void restart(uint32_t id, const TunnelStats& sums_now) {
    std::lock_guard lock(mu_);
    if (id < base_.size()) base_[id] = sums_now;
  }

  // What the slot's current tunnel has done: the sums minus the baseline (never below 0).
  TunnelStats since_restart(uint32_t id, const TunnelStats& sums_now) const {
    TunnelStats base;
    {
      std::lock_guard lock(mu_);
      if (id < base_.size()) base = base_[id];
    }
    auto minus = [](uint64_t a, uint64_t b) { return a > b ? a - b : 0; };
    return TunnelStats{minus(sums_now.packets_in, base.packets_in), minus(sums_now.bytes_in, base.bytes_in),
                       minus(sums_now.packets_out, base.packets_out), minus(sums_now.bytes_out, base.bytes_out)};
  }

 private:
  mutable std::mutex mu_;
  std::vector<TunnelStats> base_;
};

}  // namespace tsp::dp
