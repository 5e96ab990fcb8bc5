// tspctl sources: the client IPv4 addresses holding unfinished TSP sessions or anonymous
// tunnels, each against its per-address limits (`max sessions per-address`, `limit anonymous
// per-address`). What an operator looks at when /metrics shows sessions refused per_address:
// one source flooding, or a carrier-grade NAT whose customers need a higher limit.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "control/session_limiter.hpp"
#include "shared/net_types.hpp"

namespace tsp::admin {

// {"limits":{"sessions","sessions_per_address","anonymous_per_address"},"unfinished":N,
//  "addresses":N,"at_limit":N,"sources":[{"address","sessions","anonymous","at_limit"}...]}:
// the busiest first (unfinished sessions plus anonymous tunnels), then by address. A limit of
// 0 is none, and nobody is at it.
std::string sources_list(const SessionLimiter::Snapshot& sessions,
                         const std::vector<std::pair<Ipv4Addr, uint32_t>>& anonymous, uint32_t anonymous_limit);

}  // namespace tsp::admin
