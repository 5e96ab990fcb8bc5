// Last stage: an inner IPv6 packet leaves, either into a tunnel (outer IPv4 [+ UDP] and
// Ethernet toward the client) or by the uplink (Ethernet toward the next hop). Both resolve
// the next hop's MAC and may queue an ARP/NS request instead.
#pragma once

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include <cstdint>

#include "dataplane/byte_order.hpp"
#include "dataplane/checksum.hpp"
#include "dataplane/classify.hpp"
#include "dataplane/pipeline.hpp"
#include "shared/tunnel_entry.hpp"

namespace tsp::dp {

// Bytes in front of the inner packet in a tunnel frame: Ethernet, IPv4 [, UDP].
constexpr uint32_t tunnel_front_len(TunnelMode mode) noexcept {
  return kEthernetHeaderLen + kIpv4HeaderLen + (mode == TunnelMode::V6UDPV4 ? kUdpHeaderLen : 0);
}

// The outer IPv4 [+ UDP] header of a tunnel frame at `ip` (just after the Ethernet header),
// for an inner packet of `inner_len` bytes: from server_v4 to client_v4, TTL 64, DF clear,
// identification `id`; UDP server_port -> client_port with checksum 0 (optional over IPv4,
// RFC 768; the inner packet has its own). The checksum is computed from the fields, not read
// back: loading a header just written with narrow stores stalls on store forwarding.
inline void write_tunnel_header(rte_ipv4_hdr* ip, const TunnelEntry& tunnel, uint32_t inner_len, uint16_t id) noexcept {
  const bool udp = tunnel.mode == TunnelMode::V6UDPV4;
  const auto total_length = static_cast<uint16_t>(tunnel_front_len(tunnel.mode) - kEthernetHeaderLen + inner_len);
  constexpr uint8_t kTtl = 64;
  const uint8_t proto = udp ? IPPROTO_UDP : IPPROTO_IPV6;
  ip->version_ihl = RTE_IPV4_VHL_DEF;
  ip->type_of_service = 0;
  ip->total_length = be16(total_length);
  ip->packet_id = be16(id);
  ip->fragment_offset = 0;  // a router on the way may fragment rather than drop
  ip->time_to_live = kTtl;
  ip->next_proto_id = proto;
  ip->src_addr = be32(tunnel.server_v4.value);
  ip->dst_addr = be32(tunnel.client_v4.value);
  ip->hdr_checksum =
      ipv4_header_checksum_of(total_length, id, 0, kTtl, proto, tunnel.server_v4.value, tunnel.client_v4.value);
  if (udp) {
    auto* uh = reinterpret_cast<rte_udp_hdr*>(ip + 1);
    uh->src_port = be16(tunnel.server_port);
    uh->dst_port = be16(tunnel.client_port);
    uh->dgram_len = be16(static_cast<uint16_t>(kUdpHeaderLen + inner_len));
    uh->dgram_cksum = 0;
  }
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
