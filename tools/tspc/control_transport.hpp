// The TSP control channel of tspc: one socket to the broker, over reliable UDP (tsp-protocol.md
// §1.2, §1.3) or TCP (§1.4). The negotiation speaks through this interface, so it is tested
// with a scripted fake and runs unchanged on either transport.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "shared/net_types.hpp"
#include "tools/tunnel/unique_fd.hpp"

namespace tsp::tspc {

// Level 1..3 as ClientLog; the transports log every RUDP (re)transmission at 3.
using LogFn = std::function<void(int level, std::string_view text)>;

class TransportError : public std::runtime_error {
 public:
  enum class Kind {
    NoAnswer,  // nothing came back (all RUDP tries, or the TCP read time-out)
    Refused,   // ICMP port unreachable / connection refused: no listener
    Io,        // any other socket failure, or the server closed the session
  };
  TransportError(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

class ControlTransport {
 public:
  virtual ~ControlTransport() = default;
  // Sends one message and returns the server's answer (UDP: the payload of the datagram
  // echoing our header; TCP: the next line, or the whole Content-length frame).
  virtual std::string exchange(std::string_view payload) = 0;
  // A message the server answers only over UDP, with an empty payload (AUTHENTICATE PLAIN,
  // the accept); over TCP it is only sent.
  virtual void send_unanswered(std::string_view payload) = 0;
  // The next message from the server without sending one (gogoc after DIGEST-MD5 rspauth):
  // UDP asks with a header-only datagram, TCP reads what the server pushes.
  virtual std::string receive_next() = 0;
  virtual bool is_udp() const = 0;
  // The local address of the socket (what `client_v4=auto` declares).
  virtual Ipv4Addr local_address() const = 0;
  // Hands over the socket (v6udpv4 data rides the UDP one); the transport is unusable after.
  virtual tunnel::UniqueFd release_socket() = 0;
};

struct TransportSettings {
  Ipv4Addr server;
  uint16_t port = 3653;
  std::optional<Ipv4Addr> bind;  // if_source
  LogFn log;                     // may be empty
  // TCP: how long a read waits (gogoc blocks; a dead broker must not hang tspc for ever).
  std::chrono::milliseconds tcp_read_timeout{30000};
};

// Both throw TransportError (Refused when nothing listens, Io for other socket errors).
std::unique_ptr<ControlTransport> open_udp_transport(const TransportSettings& settings);
std::unique_ptr<ControlTransport> open_tcp_transport(const TransportSettings& settings);

// Shared by both: a socket of `type` bound to `bind` (or any) and connected to the server.
tunnel::UniqueFd connect_socket(int type, const TransportSettings& settings);
Ipv4Addr socket_local_address(int fd);
std::string endpoint_text(const TransportSettings& settings);

}  // namespace tsp::tspc
