#include "dataplane/classify.hpp"

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "dataplane/addr_match.hpp"
#include "dataplane/checksum.hpp"
#include "dataplane/packet_edit.hpp"

namespace tsp::dp {

namespace {

constexpr uint8_t kIcmpv6NeighborSolicitation = 135;
constexpr uint8_t kIcmpv6NeighborAdvertisement = 136;

Ipv4PortFrame v4_drop(DropReason reason) noexcept {
  Ipv4PortFrame f;
  f.kind = Ipv4PortFrame::Kind::Drop;
  f.reason = reason;
  return f;
}

Ipv4PortFrame v4_kind(Ipv4PortFrame::Kind kind) noexcept {
  Ipv4PortFrame f;
  f.kind = kind;
  return f;
}

Ipv6PortFrame v6_drop(DropReason reason) noexcept { return Ipv6PortFrame{Ipv6PortFrame::Kind::Drop, reason}; }
Ipv6PortFrame v6_kind(Ipv6PortFrame::Kind kind) noexcept { return Ipv6PortFrame{kind, DropReason::malformed_ethernet}; }

// Limited broadcast, multicast, or the directed broadcast of our subnet: the kernel's business.
bool is_broadcast_or_multicast(const DataplaneConfig& cfg, Ipv4Addr dst) noexcept {
  if (dst.value == 0xFFFFFFFFu || (dst.value >> 28) == 0xE) return true;
  const unsigned len = cfg.ipv4_prefix_len;
  if (len > 30 || !ipv4_in_subnet(dst, cfg.ipv4_address, len)) return false;
  const uint32_t host_mask = len == 0 ? 0xFFFFFFFFu : (0xFFFFFFFFu >> len);
  return (dst.value & host_mask) == host_mask;
}

// A NIC that verified the header says so; otherwise check it here.
bool ipv4_checksum_ok(const rte_mbuf* m, const rte_ipv4_hdr* ip) noexcept {
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

Ipv4PortFrame classify_udp(const DataplaneConfig& cfg, const rte_mbuf* m, const rte_ipv4_hdr* ip,
                           uint32_t payload_offset, uint32_t payload_len, bool more_fragments) noexcept {
  if (payload_len < kUdpHeaderLen) return v4_drop(DropReason::malformed_udp);
  const auto* udp = rte_pktmbuf_mtod_offset(m, const rte_udp_hdr*, payload_offset);
  if (rte_be_to_cpu_16(udp->dst_port) != cfg.udp_port) return v4_kind(Ipv4PortFrame::Kind::Exception);
  // The first fragment of a datagram to our port: tunnel data is never fragmented on purpose
  // and TSP control messages are small, so nothing legitimate is lost.
  if (more_fragments) return v4_drop(DropReason::ipv4_fragment);
  const uint32_t udp_len = rte_be_to_cpu_16(udp->dgram_len);
  if (udp_len < kUdpHeaderLen || udp_len > payload_len) return v4_drop(DropReason::malformed_udp);
  // Data starts with an IPv6 version nibble, a TSP control message with 0xF (RUDP header).
  if (udp_len == kUdpHeaderLen) return v4_kind(Ipv4PortFrame::Kind::Exception);
  const uint8_t first = *rte_pktmbuf_mtod_offset(m, const uint8_t*, payload_offset + kUdpHeaderLen);
  if ((first >> 4) != 6) return v4_kind(Ipv4PortFrame::Kind::Exception);
  if ((m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_BAD) {
    return v4_drop(DropReason::malformed_udp);
  }
  Ipv4PortFrame f = v4_kind(Ipv4PortFrame::Kind::Tunnel);
  f.mode = TunnelMode::V6UDPV4;
  f.outer_src = Ipv4Addr{rte_be_to_cpu_32(ip->src_addr)};
  f.outer_src_port = rte_be_to_cpu_16(udp->src_port);
  f.inner_offset = payload_offset + kUdpHeaderLen;
  f.inner_len = udp_len - kUdpHeaderLen;
  return f;
}

}  // namespace

Ipv4PortFrame classify_ipv4_port(const DataplaneConfig& cfg, rte_mbuf* m) noexcept {
  const uint32_t frame_len = rte_pktmbuf_data_len(m);
  if (frame_len < kEthernetHeaderLen) return v4_drop(DropReason::malformed_ethernet);
  const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
  const uint16_t ether_type = rte_be_to_cpu_16(eth->ether_type);
  if (ether_type == RTE_ETHER_TYPE_ARP) return v4_kind(Ipv4PortFrame::Kind::Arp);
  if (ether_type != RTE_ETHER_TYPE_IPV4) return v4_kind(Ipv4PortFrame::Kind::Exception);

  const uint32_t l3_len = frame_len - kEthernetHeaderLen;
  if (l3_len < kIpv4HeaderLen) return v4_drop(DropReason::malformed_ipv4);
  const auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, kEthernetHeaderLen);
  const uint32_t header_len = (ip->version_ihl & 0x0Fu) * 4u;
  const uint32_t total_len = rte_be_to_cpu_16(ip->total_length);
  if ((ip->version_ihl >> 4) != 4 || header_len < kIpv4HeaderLen || total_len < header_len ||
      total_len > l3_len || !ipv4_checksum_ok(m, ip)) {
    return v4_drop(DropReason::malformed_ipv4);
  }
  keep_first(m, kEthernetHeaderLen + total_len);

  const Ipv4Addr dst{rte_be_to_cpu_32(ip->dst_addr)};
  if (dst != cfg.ipv4_address) {
    return is_broadcast_or_multicast(cfg, dst) ? v4_kind(Ipv4PortFrame::Kind::Exception)
                                               : v4_drop(DropReason::not_for_us);
  }

  const uint16_t fragment = rte_be_to_cpu_16(ip->fragment_offset);
  const bool more_fragments = (fragment & RTE_IPV4_HDR_MF_FLAG) != 0;
  const bool later_fragment = (fragment & RTE_IPV4_HDR_OFFSET_MASK) != 0;
  const uint32_t payload_offset = kEthernetHeaderLen + header_len;
  const uint32_t payload_len = total_len - header_len;
  switch (ip->next_proto_id) {
    case IPPROTO_IPV6: {
      if (more_fragments || later_fragment) return v4_drop(DropReason::ipv4_fragment);
      Ipv4PortFrame f = v4_kind(Ipv4PortFrame::Kind::Tunnel);
      f.mode = TunnelMode::V6V4;
      f.outer_src = Ipv4Addr{rte_be_to_cpu_32(ip->src_addr)};
      f.inner_offset = payload_offset;
      f.inner_len = payload_len;
      return f;
    }
    case IPPROTO_UDP:
      // A later fragment does not show its port; the kernel reassembles or discards it.
      if (later_fragment) return v4_kind(Ipv4PortFrame::Kind::Exception);
      return classify_udp(cfg, m, ip, payload_offset, payload_len, more_fragments);
    default:
      return v4_kind(Ipv4PortFrame::Kind::Exception);
  }
}

Ipv6PortFrame classify_ipv6_port(const DataplaneConfig& cfg, rte_mbuf* m) noexcept {
  const uint32_t frame_len = rte_pktmbuf_data_len(m);
  if (frame_len < kEthernetHeaderLen) return v6_drop(DropReason::malformed_ethernet);
  const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
  if (eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6)) return v6_kind(Ipv6PortFrame::Kind::Exception);

  const uint32_t l3_len = frame_len - kEthernetHeaderLen;
  if (l3_len < kIpv6HeaderLen) return v6_drop(DropReason::malformed_ipv6);
  const auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv6_hdr*, kEthernetHeaderLen);
  const uint32_t packet_len = kIpv6HeaderLen + rte_be_to_cpu_16(ip->payload_len);
  if ((rte_be_to_cpu_32(ip->vtc_flow) >> 28) != 6 || packet_len > l3_len) return v6_drop(DropReason::malformed_ipv6);
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
