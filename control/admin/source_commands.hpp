// tspctl sources: the client IPv4 addresses holding unfinished TSP sessions or anonymous
// tunnels, each against its per-address limits (`max sessions per-address`, `limit anonymous
// per-address`), and those whose TSP frames the dataplane dropped over their share
// (`exception limit tsp-source`: they never reached the control plane). What an operator looks
// at when /metrics shows sessions refused per_address or exception_policed_tsp_source drops: one
// source flooding, or a carrier-grade NAT whose customers need a higher limit.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "control/session_limiter.hpp"
#include "dataplane/dataplane.hpp"
#include "shared/net_types.hpp"

namespace tsp::admin {

// {"limits":{"sessions","sessions_per_address","anonymous_per_address"},"unfinished":N,
//  "addresses":N,"at_limit":N,"policed":N,"sources":[{"address","sessions","anonymous",
//  "at_limit","policed"}...]}: the busiest first (unfinished sessions plus anonymous tunnels),
// then the most policed (TSP frames dropped by the dataplane), then by address. A limit of 0
// is none, and nobody is at it. "addresses" counts those holding sessions or tunnels,
// "policed" those with frames dropped.
std::string sources_list(const SessionLimiter::Snapshot& sessions,
                         const std::vector<std::pair<Ipv4Addr, uint32_t>>& anonymous, uint32_t anonymous_limit,
                         const std::vector<dp::PolicedSource>& policed);

}  // namespace tsp::admin
