// The server side of a user-space tunnel endpoint: a socket that carries IPv6 packets to and
// from the broker. proto41_relay (raw protocol 41) and udp_relay (v6udpv4 over the TSP UDP
// socket) implement it; relay_loop moves packets between it and a TUN device.
#pragma once

#include <cstdint>
#include <span>

#include "tools/tunnel/ipv6_packet.hpp"

namespace tsp::tunnel {

// What one read from the tunnel socket gave.
enum class Inbound {
  packet,           // `packet` holds one complete IPv6 packet for the TUN device
  would_block,      // nothing queued
  not_from_server,  // another source address (or port): dropped
  not_ipv6,         // the payload is not a complete IPv6 packet: dropped
  malformed,        // the outer header is unreadable: dropped
  control,          // a TSP control message (v6udpv4, first nibble 0xF): not data
  transient_error,  // an ICMP error reported on the socket (refused, unreachable)
};

struct InboundDatagram {
  Inbound kind = Inbound::would_block;
  Bytes packet;  // points into the caller's buffer when kind == packet
};

class TunnelSocket {
 public:
  virtual ~TunnelSocket() = default;
  // Non-blocking descriptor to poll() for input.
  virtual int fd() const = 0;
  // Sends one IPv6 packet to the server. False on a transient failure (an earlier ICMP error,
  // a full buffer); throws std::system_error when the socket is unusable.
  virtual bool send_packet(Bytes ipv6_packet) = 0;
  // Reads one datagram into `buffer` (at least kMaxPacketSize + 60 bytes).
  virtual InboundDatagram receive(std::span<uint8_t> buffer) = 0;
};

// A larger receive buffer for a tunnel socket (best effort, within net.core.rmem_max), so that
// a burst waits in the kernel instead of being dropped while the relay is busy.
void enlarge_receive_buffer(int fd);

// Datagrams the kernel dropped at this socket so far, mostly for a full receive buffer
// (SO_MEMINFO's drop count); 0 when the kernel does not say.
uint64_t socket_drops(int fd);

// Shared by both relays: errors of a connected socket that an ICMP message caused, after which
// the socket still works.
bool is_transient_socket_error(int error);

}  // namespace tsp::tunnel
