// First stage: what a frame from a NIC port is, after the checks every later stage relies on
// (lengths, versions, the IPv4 header checksum). Trims Ethernet padding past the IP packet.
// Needs a single-segment mbuf.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

#include "dataplane/dataplane.hpp"
#include "dataplane/drop_reasons.hpp"
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
  } kind = Kind::Drop;
  DropReason reason = DropReason::malformed_ethernet;
  // Tunnel only.
  TunnelMode mode = TunnelMode::V6V4;
  Ipv4Addr outer_src;
  uint16_t outer_src_port = 0;  // V6UDPV4
  uint32_t inner_offset = 0;    // where the IPv4 (or UDP) payload starts in the frame
  uint32_t inner_len = 0;       // its length
};

Ipv4PortFrame classify_ipv4_port(const DataplaneConfig& cfg, rte_mbuf* m) noexcept;

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

Ipv6PortFrame classify_ipv6_port(const DataplaneConfig& cfg, rte_mbuf* m) noexcept;

}  // namespace tsp::dp
