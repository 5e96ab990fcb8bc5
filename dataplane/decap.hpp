// Tunnel data from a client (IPv4 port): the tunnel must exist for the outer source, the inner
// packet must be a well-formed IPv6 packet from the tunnel's own addresses; keepalives are
// answered here, packets for the broker go to the kernel, the rest to the uplink.
#pragma once

#include <rte_mbuf.h>

#include "dataplane/addr_match.hpp"
#include "dataplane/classify.hpp"
#include "dataplane/pipeline.hpp"

namespace tsp::dp {

// The table lookups of one frame, done in advance for a whole burst (process_burst).
struct DecapLookups {
  const TunnelEntry* tunnel = nullptr;          // the tunnel of the outer source
  const TunnelEntry* inner_dst_tunnel = nullptr;  // find_encap(inner destination): RFC 6324 loop check
  bool inner_dst_looked_up = false;             // false: decapsulate looks it up when it needs it
};

// `outer` is what classify_ipv4_port said about the frame (kind Tunnel).
Verdict decapsulate(PipelineContext& ctx, rte_mbuf* m, const Ipv4PortFrame& outer, ExtraPackets& extra) noexcept;
// The same with the lookups already done.
Verdict decapsulate(PipelineContext& ctx, rte_mbuf* m, const Ipv4PortFrame& outer, const DecapLookups& found,
                    ExtraPackets& extra) noexcept;

// RFC 4213 §3.6 / RFC 6169: a client may only send from its /128 or its delegated prefix.
inline bool source_belongs_to(const TunnelEntry& tunnel, const uint8_t (&src)[16]) noexcept {
  return ipv6_equal(src, tunnel.client_v6) ||
         (tunnel.has_prefix() && ipv6_in_prefix(src, tunnel.prefix.bytes.data(), tunnel.prefix_len));
}

}  // namespace tsp::dp
