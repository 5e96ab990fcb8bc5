// IPv6 from the uplink toward a tunnel's /128 or prefix: checks (route, spoofed tunnel source,
// loop toward our own IPv4), hop limit and MTU with their ICMPv6 errors, then into the tunnel.
#pragma once

#include <rte_mbuf.h>

#include "dataplane/pipeline.hpp"

namespace tsp::dp {

// The frame holds one whole IPv6 packet after its Ethernet header (classify_ipv6_port: Forward).
Verdict encapsulate(PipelineContext& ctx, rte_mbuf* m, ExtraPackets& extra) noexcept;

}  // namespace tsp::dp
