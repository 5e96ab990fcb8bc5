// First stage: what a frame from a NIC port is, after the checks every later stage relies on
// (lengths, versions, the IPv4 header checksum). Trims Ethernet padding past the IP packet.
// Needs a single-segment mbuf. Defined here, inline: it runs once per packet at the head of
// every burst loop, and a call returning a frame description through memory costs more
// than the checks themselves.
#pragma once

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include <cstdint>

#include "dataplane/addr_match.hpp"
#include "dataplane/byte_order.hpp"
#include "dataplane/checksum.hpp"
#include "dataplane/dataplane.hpp"
#include "dataplane/drop_reasons.hpp"
#include "dataplane/packet_edit.hpp"
#include "shared/net_types.hpp"
#include "shared/tunnel_entry.hpp"

namespace tsp::dp {

inline constexpr uint32_t kEthernetHeaderLen = 14;
inline constexpr uint32_t kIpv4HeaderLen = 20;  // without options
inline constexpr uint32_t kUdpHeaderLen = 8;
inline constexpr uint32_t kIpv6HeaderLen = 40;

// A frame from the IPv4 (client) port.
struct Ipv4PortFrame {
  enum class Kind : uint8_t {
    Drop,       // `reason`
    Exception,  // for the kernel: ICMP, TCP, TSP control, broadcasts, other ethertypes
    Arp,        // for the kernel too, after learning its sender
    Tunnel,     // tunnel data addressed to us: decapsulate
    Fragment,   // a fragment of protocol 41 or UDP addressed to us: reassemble (reassembly.hpp)
  } kind = Kind::Drop;
  DropReason reason = DropReason::malformed_ethernet;
  // Tunnel only.
  TunnelMode mode = TunnelMode::V6V4;
  Ipv4Addr outer_src;
  uint16_t outer_src_port = 0;  // V6UDPV4
  uint32_t inner_offset = 0;    // where the IPv4 (or UDP) payload starts in the frame
  uint32_t inner_len = 0;       // its length
};


// A frame from the IPv6 (uplink) port. For every kind but Drop and Exception of another
// ethertype, a whole IPv6 packet starts right after the Ethernet header and fills the frame.
struct Ipv6PortFrame {
  enum class Kind : uint8_t {
    Drop,       // `reason`
    Exception,  // for the kernel: other ethertypes, our address, link-local, multicast
    Neighbor,   // neighbor solicitation or advertisement: learn, then the kernel
    Forward,    // toward a tunnel: encapsulate
  } kind = Kind::Drop;
  DropReason reason = DropReason::malformed_ethernet;
};


namespace classify_detail {

inline constexpr uint8_t kIcmpv6NeighborSolicitation = 135;
inline constexpr uint8_t kIcmpv6NeighborAdvertisement = 136;

// The IPv4 side writes into the caller's frame, and only the fields its kind uses: the burst
// path classifies into an array, and building a whole temporary there costs a store-forwarding
// stall per packet.
inline void v4_drop(Ipv4PortFrame& f, DropReason reason) noexcept {
  f.kind = Ipv4PortFrame::Kind::Drop;
  f.reason = reason;
}

inline void v4_kind(Ipv4PortFrame& f, Ipv4PortFrame::Kind kind) noexcept { f.kind = kind; }

inline void v4_tunnel(Ipv4PortFrame& f, TunnelMode mode, uint32_t outer_src_be, uint16_t outer_src_port,
                      uint32_t inner_offset, uint32_t inner_len) noexcept {
  f.kind = Ipv4PortFrame::Kind::Tunnel;
  f.mode = mode;
  f.outer_src = Ipv4Addr{be32(outer_src_be)};
  f.outer_src_port = outer_src_port;
  f.inner_offset = inner_offset;
  f.inner_len = inner_len;
}

inline Ipv6PortFrame v6_drop(DropReason reason) noexcept { return Ipv6PortFrame{Ipv6PortFrame::Kind::Drop, reason}; }
inline Ipv6PortFrame v6_kind(Ipv6PortFrame::Kind kind) noexcept { return Ipv6PortFrame{kind, DropReason::malformed_ethernet}; }

// Limited broadcast, multicast, or the directed broadcast of our subnet: the kernel's business.
inline bool is_broadcast_or_multicast(const DataplaneConfig& cfg, Ipv4Addr dst) noexcept {
  if (dst.value == 0xFFFFFFFFu || (dst.value >> 28) == 0xE) return true;
  const unsigned len = cfg.ipv4_prefix_len;
  if (len > 30 || !ipv4_in_subnet(dst, cfg.ipv4_address, len)) return false;
  const uint32_t host_mask = len == 0 ? 0xFFFFFFFFu : (0xFFFFFFFFu >> len);
  return (dst.value & host_mask) == host_mask;
}

// A NIC that verified the header says so; otherwise check it here.
inline bool ipv4_checksum_ok(const rte_mbuf* m, const rte_ipv4_hdr* ip) noexcept {
  switch (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) {
    case RTE_MBUF_F_RX_IP_CKSUM_GOOD:
    case RTE_MBUF_F_RX_IP_CKSUM_NONE:  // header integrity verified, field not filled in
      return true;
    case RTE_MBUF_F_RX_IP_CKSUM_BAD:
      return false;
    default:
      return ipv4_header_checksum_ok(ip);
  }
}

inline void classify_udp(const DataplaneConfig& cfg, const rte_mbuf* m, const rte_ipv4_hdr* ip, uint32_t payload_offset,
                         uint32_t payload_len, Ipv4PortFrame& f) noexcept {
  if (payload_len < kUdpHeaderLen) return v4_drop(f, DropReason::malformed_udp);
  const auto* udp = rte_pktmbuf_mtod_offset(m, const rte_udp_hdr*, payload_offset);
  if (be16(udp->dst_port) != cfg.udp_port) return v4_kind(f, Ipv4PortFrame::Kind::Exception);
  const uint32_t udp_len = be16(udp->dgram_len);
  if (udp_len < kUdpHeaderLen || udp_len > payload_len) return v4_drop(f, DropReason::malformed_udp);
  // Data starts with an IPv6 version nibble, a TSP control message with 0xF (RUDP header).
  if (udp_len == kUdpHeaderLen) return v4_kind(f, Ipv4PortFrame::Kind::Exception);
  const uint8_t first = *rte_pktmbuf_mtod_offset(m, const uint8_t*, payload_offset + kUdpHeaderLen);
  if ((first >> 4) != 6) return v4_kind(f, Ipv4PortFrame::Kind::Exception);
  if ((m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_BAD) {
    return v4_drop(f, DropReason::malformed_udp);
  }
  v4_tunnel(f, TunnelMode::V6UDPV4, ip->src_addr, be16(udp->src_port), payload_offset + kUdpHeaderLen,
            udp_len - kUdpHeaderLen);
}

}  // namespace classify_detail

[[gnu::always_inline]] inline void classify_ipv4_port(const DataplaneConfig& cfg, rte_mbuf* m, Ipv4PortFrame& f) noexcept {
  using namespace classify_detail;
  const uint32_t frame_len = rte_pktmbuf_data_len(m);
  if (frame_len < kEthernetHeaderLen) return v4_drop(f, DropReason::malformed_ethernet);
  const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
  const uint16_t ether_type = be16(eth->ether_type);
  if (ether_type == RTE_ETHER_TYPE_ARP) return v4_kind(f, Ipv4PortFrame::Kind::Arp);
  if (ether_type != RTE_ETHER_TYPE_IPV4) return v4_kind(f, Ipv4PortFrame::Kind::Exception);

  const uint32_t l3_len = frame_len - kEthernetHeaderLen;
  if (l3_len < kIpv4HeaderLen) return v4_drop(f, DropReason::malformed_ipv4);
  const auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, kEthernetHeaderLen);
  const uint32_t header_len = (ip->version_ihl & 0x0Fu) * 4u;
  const uint32_t total_len = be16(ip->total_length);
  if ((ip->version_ihl >> 4) != 4 || header_len < kIpv4HeaderLen || total_len < header_len ||
      total_len > l3_len || !ipv4_checksum_ok(m, ip)) {
    return v4_drop(f, DropReason::malformed_ipv4);
  }
  keep_first(m, kEthernetHeaderLen + total_len);

  const Ipv4Addr dst{be32(ip->dst_addr)};
  if (dst != cfg.ipv4_address) {
    return is_broadcast_or_multicast(cfg, dst) ? v4_kind(f, Ipv4PortFrame::Kind::Exception)
                                               : v4_drop(f, DropReason::not_for_us);
  }

  // Fragments of tunnel data are put together by the worker and the whole classified again.
  // All of UDP's come too, whatever the port (a later fragment does not show it): the kernel
  // then gets its own datagrams whole.
  const bool fragment = (be16(ip->fragment_offset) & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0;
  const uint32_t payload_offset = kEthernetHeaderLen + header_len;
  const uint32_t payload_len = total_len - header_len;
  switch (ip->next_proto_id) {
    case IPPROTO_IPV6: {
      if (fragment) return v4_kind(f, Ipv4PortFrame::Kind::Fragment);
      return v4_tunnel(f, TunnelMode::V6V4, ip->src_addr, 0, payload_offset, payload_len);
    }
    case IPPROTO_UDP:
      if (fragment) return v4_kind(f, Ipv4PortFrame::Kind::Fragment);
      return classify_udp(cfg, m, ip, payload_offset, payload_len, f);
    default:
      return v4_kind(f, Ipv4PortFrame::Kind::Exception);
  }
}

inline Ipv4PortFrame classify_ipv4_port(const DataplaneConfig& cfg, rte_mbuf* m) noexcept {
  Ipv4PortFrame f;
  classify_ipv4_port(cfg, m, f);
  return f;
}

[[gnu::always_inline]] inline Ipv6PortFrame classify_ipv6_port(const DataplaneConfig& cfg, rte_mbuf* m) noexcept {
  using namespace classify_detail;
  const uint32_t frame_len = rte_pktmbuf_data_len(m);
  if (frame_len < kEthernetHeaderLen) return v6_drop(DropReason::malformed_ethernet);
  const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
  if (eth->ether_type != be16(RTE_ETHER_TYPE_IPV6)) return v6_kind(Ipv6PortFrame::Kind::Exception);

  const uint32_t l3_len = frame_len - kEthernetHeaderLen;
  if (l3_len < kIpv6HeaderLen) return v6_drop(DropReason::malformed_ipv6);
  const auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv6_hdr*, kEthernetHeaderLen);
  const uint32_t packet_len = kIpv6HeaderLen + be16(ip->payload_len);
  if ((be32(ip->vtc_flow) >> 28) != 6 || packet_len > l3_len) return v6_drop(DropReason::malformed_ipv6);
  keep_first(m, kEthernetHeaderLen + packet_len);

  if (ip->proto == IPPROTO_ICMPV6 && packet_len > kIpv6HeaderLen) {
    const uint8_t type = *rte_pktmbuf_mtod_offset(m, const uint8_t*, kEthernetHeaderLen + kIpv6HeaderLen);
    if (type == kIcmpv6NeighborSolicitation || type == kIcmpv6NeighborAdvertisement) {
      return v6_kind(Ipv6PortFrame::Kind::Neighbor);
    }
  }
  if (ipv6_equal(ip->dst_addr, cfg.ipv6_address) || ipv6_is_link_local(ip->dst_addr) ||
      ipv6_is_multicast(ip->dst_addr)) {
    return v6_kind(Ipv6PortFrame::Kind::Exception);
  }
  return v6_kind(Ipv6PortFrame::Kind::Forward);
}

}  // namespace tsp::dp
