// IPv6 from the uplink toward a tunnel's /128 or prefix: checks (route, spoofed tunnel source,
// loop toward our own IPv4), hop limit and MTU with their ICMPv6 errors, then into the tunnel.
#pragma once

#include <rte_mbuf.h>

#include "dataplane/pipeline.hpp"

namespace tsp::dp {

// The table lookups of one frame, done in advance for a whole burst (process_burst).
struct EncapLookups {
  const TunnelEntry* dst_tunnel = nullptr;  // find_encap(destination): the route
  const TunnelEntry* src_tunnel = nullptr;  // find_encap(source): a tunnel's address from outside is spoofed
};

// A tunnel whose client address is one of ours would send the packet straight back in.
inline bool points_back_at_us(const DataplaneConfig& cfg, const TunnelEntry& tunnel) noexcept {
  return tunnel.client_v4 == cfg.ipv4_address || tunnel.client_v4 == tunnel.server_v4;
}

// The frame holds one whole IPv6 packet after its Ethernet header (classify_ipv6_port: Forward).
Verdict encapsulate(PipelineContext& ctx, rte_mbuf* m, ExtraPackets& extra) noexcept;
// The same with the lookups already done.
Verdict encapsulate(PipelineContext& ctx, rte_mbuf* m, const EncapLookups& found, ExtraPackets& extra) noexcept;

}  // namespace tsp::dp
