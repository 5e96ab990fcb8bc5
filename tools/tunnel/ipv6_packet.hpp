// What a tunnel endpoint needs to know about the IPv6 packets it carries: enough to refuse what
// must not cross the tunnel, and the ICMPv6 checksum for the keepalives it builds. The kernel
// on one side and the broker on the other check everything else.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "shared/net_types.hpp"

namespace tsp::tunnel {

using Bytes = std::span<const uint8_t>;

inline constexpr size_t kIpv6HeaderSize = 40;
inline constexpr uint8_t kNextHeaderIcmpv6 = 58;
// The largest IPv6 packet a tunnel endpoint handles (a full IPv4 datagram's worth).
inline constexpr size_t kMaxPacketSize = 65535;

// Version 6, a whole fixed header, and at least the bytes the payload length announces
// (trailing bytes are tolerated: the receiving kernel trims them).
bool is_complete_ipv6(Bytes packet);

// Precondition for the readers below: is_complete_ipv6(packet).
Ipv6Addr ipv6_source(Bytes packet);
Ipv6Addr ipv6_destination(Bytes packet);

// True for a packet the broker can route: a global source (not ::, link-local or multicast)
// and a destination that is neither link-local nor multicast. The kernel sends router
// solicitations, MLD reports and the like into a TUN interface; the broker would only count
// them as drops.
bool is_routable_through_broker(Bytes packet);

// The ICMPv6 checksum (RFC 4443 §2.3) over the pseudo-header and `icmp`, whose checksum field
// (bytes 2-3) must be zero.
uint16_t icmpv6_checksum(const Ipv6Addr& source, const Ipv6Addr& destination, Bytes icmp);

}  // namespace tsp::tunnel
