// The TSP session socket of the namespace client, to any IPv4 broker (the e2e test client is
// tied to loopback and to Catch2 assertions). Over UDP: gogoc's RUDP framing (first word
// 0xF00000F0 and up, millisecond timestamp, the same word on a retransmission, three tries two
// seconds apart); over TCP: one send per message, one recv() per reply (tsp-protocol.md §1).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "shared/net_types.hpp"
#include "tools/tunnel/unique_fd.hpp"

namespace tsp::netns {

// The broker did not answer, answered nonsense or refused: the message says which step.
class NegotiationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Endpoint {
  Ipv4Addr address;
  uint16_t port = 3653;
};

class ControlChannel {
 public:
  virtual ~ControlChannel() = default;
  // Sends one message and returns the payload of the answer (without the RUDP header).
  virtual std::string request(std::string_view payload) = 0;
  // Sends one message the server does not answer (TCP: PLAIN's AUTHENTICATE, the accept).
  virtual void send_only(std::string_view payload) = 0;
  // Reads an answer the server sends unasked (TCP: the status after DIGEST-MD5 rspauth).
  virtual std::string read_pushed() = 0;
  virtual bool is_udp() const = 0;
  // The socket's own address, as gogoc declares it by default (getsockname).
  virtual Endpoint local_endpoint() const = 0;
  // Hands the socket over for the tunnel's life (v6udpv4 data rides on it).
  virtual tunnel::UniqueFd release_socket() = 0;
};

// Connects to `server` from `bind` (any address when 0.0.0.0). Throws NegotiationError.
std::unique_ptr<ControlChannel> open_udp_channel(Endpoint server, Ipv4Addr bind);
std::unique_ptr<ControlChannel> open_tcp_channel(Endpoint server, Ipv4Addr bind);

}  // namespace tsp::netns
