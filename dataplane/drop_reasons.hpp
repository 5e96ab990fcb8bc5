// Every reason the dataplane drops a packet, declared once: counters, tspctl, metrics and the
// docs all read this table.
#pragma once

#include <cstddef>
#include <string_view>

namespace tsp::dp {

#define TSP_DROP_REASONS(X)                                                                   \
  X(malformed_ethernet, "frame too short or unsupported ethertype")                            \
  X(malformed_ipv4, "bad IPv4 header (version, length, checksum)")                             \
  X(malformed_ipv6, "bad IPv6 header (version or payload length)")                             \
  X(ipv4_fragment, "IPv4 fragment not reassembled (timed out, overlapping, or too many packets in reassembly)") \
  X(not_for_us, "IPv4 packet addressed to somebody else")                                     \
  X(no_tunnel, "no tunnel for the outer source (address, or address and port)")              \
  X(inner_source_spoofed, "inner IPv6 source outside the tunnel's address and prefix")        \
  X(inner_not_ipv6, "UDP or protocol-41 payload is not an IPv6 packet")                       \
  X(link_local_or_multicast, "link-local or multicast address where a router must not forward") \
  X(tunnel_loop, "would re-enter a tunnel or target our own address (RFC 6324)")             \
  X(no_route, "IPv6 destination has no tunnel")                                                \
  X(hop_limit_exceeded, "hop limit exhausted (ICMPv6 time exceeded sent, rate limited)")     \
  X(too_big, "inner packet over the tunnel MTU (ICMPv6 packet too big sent, rate limited)") \
  X(neighbor_unresolved, "next hop MAC unknown yet (ARP/ND request sent)")                    \
  X(tx_full, "transmit queue full")                                                            \
  X(no_mbuf, "packet buffer pool empty")                                                       \
  X(malformed_udp, "UDP length inconsistent with the IPv4 packet, or bad checksum flagged by the NIC") \
  X(no_gateway, "off-link next hop but no gateway configured on that side")                   \
  X(no_headroom, "packet buffer lacks headroom for the headers to prepend")                   \
  X(segmented_frame, "multi-segment frame that does not fit one buffer")                      \
  X(exception_policed_neighbor, "ARP or neighbor discovery for the kernel over its exception limit") \
  X(exception_policed_tsp, "TSP (UDP or TCP to the TSP port) for the kernel over its exception limit") \
  X(exception_policed_tsp_source, "TSP from one source address over its share (exception limit tsp-source)") \
  X(exception_policed_other, "other traffic for the kernel over its exception limit")

enum class DropReason : unsigned {
#define TSP_DROP_ENUM(name, text) name,
  TSP_DROP_REASONS(TSP_DROP_ENUM)
#undef TSP_DROP_ENUM
};

inline constexpr size_t kDropReasonCount = 0
#define TSP_DROP_COUNT(name, text) +1
    TSP_DROP_REASONS(TSP_DROP_COUNT)
#undef TSP_DROP_COUNT
    ;

constexpr std::string_view drop_reason_name(DropReason r) {
  switch (r) {
#define TSP_DROP_NAME(name, text) \
  case DropReason::name:          \
    return #name;
    TSP_DROP_REASONS(TSP_DROP_NAME)
#undef TSP_DROP_NAME
  }
  return "unknown";
}

constexpr std::string_view drop_reason_text(DropReason r) {
  switch (r) {
#define TSP_DROP_TEXT(name, text) \
  case DropReason::name:          \
    return text;
    TSP_DROP_REASONS(TSP_DROP_TEXT)
#undef TSP_DROP_TEXT
  }
  return "";
}

}  // namespace tsp::dp
