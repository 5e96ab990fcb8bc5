// The common case of a frame from the IPv4 port, recognised in one look: tunnel data (protocol
// 41, or UDP to our port) addressed to us, option-free and unfragmented, carrying a well-formed
// IPv6 packet that a router forwards (hop limit above 1, not ICMPv6, no link-local, multicast
// or on-link address). The burst path (pipeline.cpp) decapsulates such a frame in straight
// line once its tunnel is known; every other frame, and any frame whose tunnel-dependent
// checks fail, goes through classify_ipv4_port and decapsulate, the reference path.
//
// Why not classify first: the reference classifier decides among every kind of frame field
// by field and describes its answer through memory. Here a few word-sized loads and masked
// compares settle the whole outer header at once, and the frame is described only if it
// qualifies. test_dp_pipeline_burst and fuzz_dp_pipeline check that the two paths agree.
#pragma once

#include <rte_ip.h>
#include <rte_mbuf.h>

#include <cstdint>

#include "dataplane/byte_order.hpp"
#include "dataplane/checksum.hpp"
#include "dataplane/classify.hpp"
#include "dataplane/dataplane.hpp"
#include "dataplane/frame_words.hpp"
#include "shared/tunnel_table.hpp"

namespace tsp::dp {

// What the recognition needs from the configuration, in the frame's byte order, read once per
// burst (the frames' bytes are written through pointers the compiler must assume alias it).
struct FastDecapConfig {
  uint32_t ipv4_address;  // as the frame carries it
  uint16_t udp_port;      // as the frame carries it
  uint64_t onlink_hi, onlink_lo;            // the uplink's prefix, masked, as two loads of it read
  uint64_t onlink_mask_hi, onlink_mask_lo;  // its mask, likewise

  explicit FastDecapConfig(const DataplaneConfig& cfg) noexcept
      : ipv4_address(be32(cfg.ipv4_address.value)), udp_port(be16(cfg.udp_port)) {
    const unsigned len = cfg.ipv6_prefix_len > 128 ? 128 : cfg.ipv6_prefix_len;
    onlink_mask_hi = be64(frame_words::leading_ones(len >= 64 ? 64 : len));
    onlink_mask_lo = be64(frame_words::leading_ones(len <= 64 ? 0 : len - 64));
    const uint8_t* addr = cfg.ipv6_address.bytes.data();
    onlink_hi = frame_words::load<uint64_t>(addr) & onlink_mask_hi;
    onlink_lo = frame_words::load<uint64_t>(addr + 8) & onlink_mask_lo;
  }
};

// A frame the fast path can finish once it has the tunnel of its key. No initialisers: the
// burst keeps 32 of them on the stack and fills in only those it recognises.
struct FastDecapFrame {
  uint64_t decap_key;  // TunnelTable::decap_key of the outer source (and UDP port)
  uint8_t* ip;         // the inner IPv6 header (the straight line edits it in place)
  uint32_t ip_offset;  // where it starts in the frame
  uint32_t ip_len;     // the inner packet's length (it may be followed by padding)
};

// True, with `out` filled in, if `m` is tunnel data of the common case (see the top); false,
// having changed nothing but perhaps `out`, for anything else.
[[gnu::always_inline]] inline bool recognise_fast_decap(const FastDecapConfig& c, const rte_mbuf* m,
                                                        FastDecapFrame& out) noexcept {
  using namespace frame_words;
  constexpr uint32_t kSmallest = kEthernetHeaderLen + kIpv4HeaderLen + kIpv6HeaderLen;
  const uint32_t frame_len = rte_pktmbuf_data_len(m);
  if (m->nb_segs != 1 || frame_len < kSmallest) return false;
  const auto* p = rte_pktmbuf_mtod(m, const uint8_t*);

  // Bytes 12..19: ethertype IPv4, version 4 with no options; total length. Bytes 20..23:
  // no fragmentation (DF allowed), the protocol. Bytes 30..33: our address.
  const uint64_t eth_ip = load<uint64_t>(p + 12);
  const uint32_t frag_proto = load<uint32_t>(p + 20) & static_cast<uint32_t>(bytes_le(0x3F, 0xFF, 0x00, 0xFF));
  if ((eth_ip & 0xFFFFFF) != bytes_le(0x08, 0x00, 0x45) || load<uint32_t>(p + 30) != c.ipv4_address) return false;
  const uint64_t ip_cksum = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
  if (ip_cksum == RTE_MBUF_F_RX_IP_CKSUM_BAD ||
      (ip_cksum == RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN && !ipv4_option_free_header_ok(p + kEthernetHeaderLen))) {
    return false;
  }
  const int32_t total_len = be16(static_cast<uint16_t>(eth_ip >> 32));
  if (static_cast<uint32_t>(total_len) > frame_len - kEthernetHeaderLen) return false;
  const int32_t payload_len = total_len - static_cast<int32_t>(kIpv4HeaderLen);

  int32_t inner_len;
  TunnelMode mode;
  uint16_t src_port;
  if (frag_proto == bytes_le(0, 0, 0, IPPROTO_IPV6)) {
    mode = TunnelMode::V6V4;
    src_port = 0;
    out.ip_offset = kEthernetHeaderLen + kIpv4HeaderLen;
    inner_len = payload_len;
  } else if (frag_proto == bytes_le(0, 0, 0, IPPROTO_UDP)) {
    // Source port, destination port, length; the checksum is optional over IPv4 and not ours
    // to check unless a NIC did.
    const uint64_t udp = load<uint64_t>(p + kEthernetHeaderLen + kIpv4HeaderLen);
    const int32_t udp_len = be16(static_cast<uint16_t>(udp >> 32));
    if (static_cast<uint16_t>(udp >> 16) != c.udp_port || udp_len > payload_len ||
        (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_BAD) {
      return false;
    }
    mode = TunnelMode::V6UDPV4;
    src_port = be16(static_cast<uint16_t>(udp));
    out.ip_offset = kEthernetHeaderLen + kIpv4HeaderLen + kUdpHeaderLen;
    inner_len = udp_len - static_cast<int32_t>(kUdpHeaderLen);
  } else {
    return false;
  }
  if (inner_len < static_cast<int32_t>(kIpv6HeaderLen)) return false;

  // The inner header: version 6, a length that fits, hop limit above 1, not ICMPv6 (keepalives
  // and errors); source not link-local; destination neither link-local, multicast nor on-link.
  uint8_t* ip = rte_pktmbuf_mtod(m, uint8_t*) + out.ip_offset;
  const uint64_t first = load<uint64_t>(ip);
  const uint32_t ip_len = kIpv6HeaderLen + be16(static_cast<uint16_t>(first >> 32));
  const auto next_header = static_cast<uint8_t>(first >> 48);
  const auto hop_limit = static_cast<uint8_t>(first >> 56);
  if ((first & 0xF0) != 0x60 || ip_len > static_cast<uint32_t>(inner_len) || hop_limit <= 1 ||
      next_header == IPPROTO_ICMPV6) {
    return false;
  }
  const uint64_t src_hi = load<uint64_t>(ip + 8);
  const uint64_t dst_hi = load<uint64_t>(ip + 24);
  const uint64_t dst_lo = load<uint64_t>(ip + 32);
  if (is_link_local(src_hi) || is_link_local(dst_hi) || is_multicast(dst_hi) ||
      ((dst_hi & c.onlink_mask_hi) == c.onlink_hi && (dst_lo & c.onlink_mask_lo) == c.onlink_lo)) {
    return false;
  }
  out.decap_key = TunnelTable::decap_key(mode, be32(load<uint32_t>(p + 26)), src_port);
  out.ip = ip;
  out.ip_len = ip_len;
  return true;
}

}  // namespace tsp::dp
