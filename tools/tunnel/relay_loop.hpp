// The relay: a poll() loop that moves IPv6 packets between a TUN device and a tunnel socket
// until a stop flag is raised, and sends keepalives at the offered interval.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <vector>

#include "tools/tunnel/keepalive.hpp"
#include "tools/tunnel/relay_counters.hpp"
#include "tools/tunnel/tunnel_socket.hpp"

namespace tsp::tunnel {

struct KeepaliveSettings {
  Ipv6Addr client;                 // our tunnel address
  Ipv6Addr server;                 // the offer's keepalive address
  std::chrono::seconds interval{30};  // must be positive
  uint16_t identifier = 0;         // gogoc uses its PID
  // Until one keepalive is answered, they go out this often (at most every interval): the
  // first ones may race the broker's publication of the tunnel or its ARP for us, and an
  // answer is what says the tunnel works.
  std::chrono::milliseconds unanswered_retry{1000};
};

struct RelayOptions {
  std::optional<KeepaliveSettings> keepalive;  // none: no keepalives (offer interval 0)
  // How long poll() may sleep: the longest delay before a raised stop flag is seen.
  std::chrono::milliseconds tick{200};
};

class RelayLoop {
 public:
  // `tun_fd` reads and writes one IPv6 packet per call (a TUN device with IFF_NO_PI, or a
  // SOCK_SEQPACKET socket in tests); both descriptors are switched to non-blocking.
  RelayLoop(int tun_fd, TunnelSocket& tunnel, RelayOptions options);

  // Relays until `stop` is true. The first keepalive goes out at once. Throws
  // std::system_error when either descriptor fails for good.
  void run(const std::atomic<bool>& stop);

  const RelayCounters& counters() const { return counters_; }

 private:
  void drain_tun();
  void drain_tunnel();
  void send_keepalive_if_due(std::chrono::steady_clock::time_point now);
  void send_to_tunnel(Bytes packet);

  int tun_fd_;
  TunnelSocket& tunnel_;
  RelayOptions options_;
  std::optional<KeepalivePinger> pinger_;
  std::chrono::steady_clock::time_point next_keepalive_{};
  std::vector<uint8_t> buffer_;
  RelayCounters counters_;
};

}  // namespace tsp::tunnel
