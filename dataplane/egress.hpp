// Last stage: an inner IPv6 packet leaves, either into a tunnel (outer IPv4 [+ UDP] and
// Ethernet toward the client) or by the uplink (Ethernet toward the next hop). Both resolve
// the next hop's MAC and may queue an ARP/NS request instead.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

#include "dataplane/classify.hpp"
#include "dataplane/pipeline.hpp"
#include "shared/tunnel_entry.hpp"

namespace tsp::dp {

// Bytes in front of the inner packet in a tunnel frame: Ethernet, IPv4 [, UDP].
constexpr uint32_t tunnel_front_len(TunnelMode mode) noexcept {
  return kEthernetHeaderLen + kIpv4HeaderLen + (mode == TunnelMode::V6UDPV4 ? kUdpHeaderLen : 0);
}

// The IPv6 packet from `ip_offset` to the end of the frame goes into `tunnel`: IPv4 from
// server_v4 to client_v4 (TTL 64, DF clear, identification from this worker's counter), plus
// UDP server_port -> client_port (checksum 0) for v6udpv4. Counts the tunnel's "out".
// Transmit on the IPv4 side, or Drop (no_headroom, no_gateway, neighbor_unresolved).
Verdict send_into_tunnel(PipelineContext& ctx, rte_mbuf* m, uint32_t ip_offset, const TunnelEntry& tunnel,
                         ExtraPackets& extra) noexcept;

// The IPv6 packet from `ip_offset` to the end of the frame leaves by the uplink, toward its
// destination if on-link, else the IPv6 gateway. Transmit on the IPv6 side, or Drop
// (no_headroom, no_gateway, neighbor_unresolved).
Verdict send_to_uplink(PipelineContext& ctx, rte_mbuf* m, uint32_t ip_offset, ExtraPackets& extra) noexcept;

}  // namespace tsp::dp
