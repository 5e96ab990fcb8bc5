// The client end of a v6udpv4 tunnel (tsp-protocol.md §5.3): raw IPv6 packets as UDP payloads
// on the very socket the TSP session used, so they follow the same NAT mapping. A datagram whose
// first nibble is 6 is data; 0xF is a TSP control message, never data.
#pragma once

#include <netinet/in.h>

#include "tools/tunnel/tunnel_socket.hpp"
#include "tools/tunnel/unique_fd.hpp"

namespace tsp::tunnel {

// How a v6udpv4 payload is read: a complete IPv6 packet, a control message, or neither.
Inbound classify_udp_payload(Bytes payload);

class UdpRelay final : public TunnelSocket {
 public:
  // Takes the TSP session's UDP socket, which must be connect()ed to the server.
  // Throws std::system_error when it is not.
  explicit UdpRelay(UniqueFd session_socket);

  int fd() const override { return fd_.get(); }
  bool send_packet(Bytes ipv6_packet) override;
  InboundDatagram receive(std::span<uint8_t> buffer) override;

 private:
  UniqueFd fd_;
  sockaddr_in server_{};
};

}  // namespace tsp::tunnel
