// ICMPv6 messages the workers build in place: echo replies to keepalives, and the time
// exceeded / packet too big errors a router owes the sender (RFC 4443).
#pragma once

#include <rte_ip.h>
#include <rte_mbuf.h>

#include <cstdint>

#include "dataplane/pipeline.hpp"
#include "shared/net_types.hpp"

namespace tsp::dp {

inline constexpr uint8_t kIcmpv6PacketTooBig = 2;
inline constexpr uint8_t kIcmpv6TimeExceeded = 3;
inline constexpr uint8_t kIcmpv6EchoRequest = 128;
inline constexpr uint8_t kIcmpv6EchoReply = 129;
// An error message is at most the minimum MTU (RFC 4443 §2.4(c)).
inline constexpr uint32_t kIcmpv6ErrorMaxLen = 1280;

// `ip` (whole packet of `len` bytes) is an ICMPv6 echo request with no extension header.
bool is_echo_request(const rte_ipv6_hdr* ip, uint32_t len) noexcept;

// Turns an echo request into its reply: addresses swapped, type 129, hop limit 64. The
// checksum is updated incrementally, so a corrupt request gives a corrupt reply.
void turn_into_echo_reply(rte_ipv6_hdr* ip) noexcept;

struct Icmpv6Error {
  uint8_t type = kIcmpv6TimeExceeded;
  uint8_t code = 0;
  uint32_t param = 0;  // packet too big: the MTU
  const Ipv6Addr* source = nullptr;  // the error's source address (ours)
};

// Replaces the IPv6 packet that starts `ip_offset` bytes into the frame (and runs to its end)
// by an ICMPv6 error about it, to its source, quoting as much of it as fits in 1280 bytes; the
// error starts `error_offset` bytes into the frame, the bytes before are the caller's to
// write. Returns false and leaves the packet as it was when no error may be sent: the packet is
// itself an ICMPv6 error, its source is unspecified or multicast (RFC 4443 §2.4(e)), this
// worker's budget for the second is spent, or the headroom is short. Counts icmp_errors.
bool build_icmpv6_error(PipelineContext& ctx, rte_mbuf* m, uint32_t ip_offset, uint32_t error_offset,
                        const Icmpv6Error& error) noexcept;

}  // namespace tsp::dp
