// Tunnel data from a client (IPv4 port): the tunnel must exist for the outer source, the inner
// packet must be a well-formed IPv6 packet from the tunnel's own addresses; keepalives are
// answered here, packets for the broker go to the kernel, the rest to the uplink.
#pragma once

#include <rte_mbuf.h>

#include "dataplane/classify.hpp"
#include "dataplane/pipeline.hpp"

namespace tsp::dp {

// `outer` is what classify_ipv4_port said about the frame (kind Tunnel).
Verdict decapsulate(PipelineContext& ctx, rte_mbuf* m, const Ipv4PortFrame& outer, ExtraPackets& extra) noexcept;

}  // namespace tsp::dp
