// Next-hop resolution on both ports: learning MACs from the ARP and neighbor discovery traffic
// that passes by, writing the Ethernet header of outgoing packets, and asking (ARP request,
// neighbor solicitation; at most once per neighbor per second) when a MAC is not known yet.
#pragma once

#include <rte_ether.h>
#include <rte_mbuf.h>

#include <cstdint>

#include "dataplane/byte_order.hpp"
#include "dataplane/pipeline.hpp"
#include "shared/net_types.hpp"

namespace tsp::dp {

// An ARP frame from the IPv4 port: learns its sender if it is a valid Ethernet/IPv4 ARP from
// our subnet (requests and replies alike). Never changes the frame.
void learn_from_arp(const PipelineContext& ctx, const rte_mbuf* m) noexcept;

// A neighbor solicitation or advertisement from the IPv6 port (whole IPv6 packet after the
// Ethernet header): learns the solicitation's source (source link-layer option) or the
// advertisement's target (target link-layer option, else the frame's source MAC), if the
// message is valid (hop limit 255, code 0, checksum, options) and the address on-link,
// link-local or the gateway. Never changes the frame.
void learn_from_neighbor_discovery(const PipelineContext& ctx, const rte_mbuf* m) noexcept;

// The MAC of `key` on `side`: from this burst's memo, else from the shared table (then
// remembered in the memo). nullptr while unknown; asks nobody.
const rte_ether_addr* known_mac(PipelineContext& ctx, Side side, const NeighborKey& key) noexcept;

// The Ethernet header of a data frame leaving by `side` toward the neighbor `dst`: the side's
// port MAC as source, IPv4 or IPv6 as the side carries.
inline rte_ether_hdr data_frame_header(const PipelineContext& ctx, Side side, const rte_ether_addr& dst) noexcept {
  rte_ether_hdr h;
  h.dst_addr = dst;
  h.src_addr = ctx.side[static_cast<unsigned>(side)].mac;
  h.ether_type = be16(side == Side::Ipv4 ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6);
  return h;
}

// Writes the frame's Ethernet header toward `next_hop` (our port MAC as source) and returns
// true; or, while its MAC is unknown, queues an ARP request / neighbor solicitation in `extra`
// (rate limited) and returns false.
bool resolve_ipv4_next_hop(PipelineContext& ctx, rte_mbuf* m, Ipv4Addr next_hop, ExtraPackets& extra) noexcept;
bool resolve_ipv6_next_hop(PipelineContext& ctx, rte_mbuf* m, const uint8_t (&next_hop)[16],
                           ExtraPackets& extra) noexcept;

// Broadcast ARP request "who has target? tell sender" (42 bytes). nullptr if the pool is empty.
rte_mbuf* build_arp_request(rte_mempool* pool, const rte_ether_addr& mac, Ipv4Addr sender, Ipv4Addr target) noexcept;
// Neighbor solicitation for `target` to its solicited-node multicast address, with our
// source link-layer option (86 bytes). nullptr if the pool is empty.
rte_mbuf* build_neighbor_solicitation(rte_mempool* pool, const rte_ether_addr& mac, const Ipv6Addr& source,
                                      const uint8_t (&target)[16]) noexcept;

}  // namespace tsp::dp
