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
  // The relay gives up (RelayExit::keepalive_timeout) when no reply has come for
  // max_missed intervals plus reply_timeout, counted from the start or the last reply:
  // gogoc's rule of 3 late or missing replies with a 5 s reply time-out (tsp-protocol.md
  // §5.2). 0 never gives up.
  unsigned max_missed = 0;
  std::chrono::milliseconds reply_timeout{5000};
};

enum class RelayExit {
  stopped,            // the stop flag was raised
  keepalive_timeout,  // keepalives went unanswered (see KeepaliveSettings::max_missed)
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

  // Relays until `stop` is true or the keepalives time out. The first keepalive goes out at
  // once. Throws std::system_error when either descriptor fails for good.
  RelayExit run(const std::atomic<bool>& stop);

  const RelayCounters& counters() const { return counters_; }

 private:
  void drain_tun();
  void drain_tunnel();
  void send_keepalive_if_due(std::chrono::steady_clock::time_point now);
  bool keepalive_timed_out(std::chrono::steady_clock::time_point now) const;
  void send_to_tunnel(Bytes packet);

  int tun_fd_;
  TunnelSocket& tunnel_;
  RelayOptions options_;
  std::optional<KeepalivePinger> pinger_;
  std::chrono::steady_clock::time_point next_keepalive_{};
  std::chrono::steady_clock::time_point last_sign_of_life_{};  // start, or the last keepalive reply
  std::vector<uint8_t> buffer_;
  RelayCounters counters_;
};

}  // namespace tsp::tunnel
