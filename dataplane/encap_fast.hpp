// The common case of a frame from the IPv6 (uplink) port, recognised in one look: a whole IPv6
// packet that a router forwards (hop limit above 1), not a neighbor solicitation or
// advertisement, not for the broker's address, with neither a link-local nor a multicast
// source or destination. The burst path (pipeline.cpp) looks up the tunnels of such frames
// together and encapsulates them in straight line; every other frame, and any frame whose
// tunnel-dependent checks fail, goes through classify_ipv6_port and encapsulate, the
// reference path. test_dp_pipeline_burst and fuzz_dp_pipeline check that the two agree.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

#include "dataplane/addr_match.hpp"
#include "dataplane/byte_order.hpp"
#include "dataplane/classify.hpp"
#include "dataplane/dataplane.hpp"
#include "dataplane/frame_words.hpp"

namespace tsp::dp {

// What the recognition needs from the configuration, as the frame's bytes hold it, read once
// per burst.
struct FastEncapConfig {
  uint64_t address_hi, address_lo;  // the broker's IPv6 address, as two loads of it read
  uint32_t ipv4_address;            // the broker's IPv4 address (host order)
  uint32_t ipv4_subnet_mask;        // its subnet's mask (host order): clients in it are on-link

  explicit FastEncapConfig(const DataplaneConfig& cfg) noexcept
      : address_hi(frame_words::load<uint64_t>(cfg.ipv6_address.bytes.data())),
        address_lo(frame_words::load<uint64_t>(cfg.ipv6_address.bytes.data() + 8)),
        ipv4_address(cfg.ipv4_address.value),
        ipv4_subnet_mask(ipv4_prefix_mask(cfg.ipv4_prefix_len)) {}

  // ipv4_in_subnet(a, broker's address, its prefix length) with the mask worked out per burst.
  bool on_link(Ipv4Addr a) const noexcept { return ((a.value ^ ipv4_address) & ipv4_subnet_mask) == 0; }
};

// The length of the IPv6 packet that `m` carries (without Ethernet padding) if it is of the
// common case (see the top), else 0, having changed nothing.
[[gnu::always_inline]] inline uint32_t recognise_fast_encap(const FastEncapConfig& c, const rte_mbuf* m) noexcept {
  using namespace frame_words;
  const uint32_t frame_len = rte_pktmbuf_data_len(m);
  if (m->nb_segs != 1 || frame_len < kEthernetHeaderLen + kIpv6HeaderLen) return 0;
  const auto* p = rte_pktmbuf_mtod(m, const uint8_t*);

  // Bytes 12..19: ethertype IPv6, version 6, traffic class and flow label; payload length,
  // next header, hop limit.
  const uint64_t eth_ip = load<uint64_t>(p + 12);
  const uint64_t lengths = load<uint64_t>(p + 18);
  const uint32_t ip_len = kIpv6HeaderLen + be16(static_cast<uint16_t>(lengths));
  const auto next_header = static_cast<uint8_t>(lengths >> 16);
  const auto hop_limit = static_cast<uint8_t>(lengths >> 24);
  if ((eth_ip & 0xF0FFFF) != bytes_le(0x86, 0xDD, 0x60) || ip_len > frame_len - kEthernetHeaderLen ||
      hop_limit <= 1) {
    return 0;
  }
  if (next_header == IPPROTO_ICMPV6 && ip_len > kIpv6HeaderLen) {
    const uint8_t type = p[kEthernetHeaderLen + kIpv6HeaderLen];
    if (type == classify_detail::kIcmpv6NeighborSolicitation ||
        type == classify_detail::kIcmpv6NeighborAdvertisement) {
      return 0;
    }
  }
  const uint64_t src_hi = load<uint64_t>(p + kEthernetHeaderLen + 8);
  const uint64_t dst_hi = load<uint64_t>(p + kEthernetHeaderLen + 24);
  const uint64_t dst_lo = load<uint64_t>(p + kEthernetHeaderLen + 32);
  if (is_link_local(src_hi) || is_multicast(src_hi) || is_link_local(dst_hi) || is_multicast(dst_hi) ||
      ((dst_hi ^ c.address_hi) | (dst_lo ^ c.address_lo)) == 0) {
    return 0;
  }
  return ip_len;
}

}  // namespace tsp::dp
