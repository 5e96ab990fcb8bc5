// What the TSP servers do beside the sessions: datagrams dropped before any session sees them,
// retransmissions answered from the reply cache, TCP connections accepted and why they were
// closed. Written by the servers' threads, read by a scrape: relaxed atomics, as in
// control_counters.hpp.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tsp::metrics {

// Why a datagram on the TSP port got no session's attention.
enum class UdpDrop : unsigned {
  malformed,        // no whole RUDP header, or a control message that cannot be one
  unknown_session,  // no session for its source, and not VERSION=: silence, no reflection
  tunnel_data,      // IPv6 in UDP with no dataplane running (it still proves a tunnel alive)
};
inline constexpr std::array kUdpDrops{UdpDrop::malformed, UdpDrop::unknown_session, UdpDrop::tunnel_data};

constexpr std::string_view udp_drop_name(UdpDrop d) {
  switch (d) {
    case UdpDrop::malformed: return "malformed";
    case UdpDrop::unknown_session: return "unknown_session";
    case UdpDrop::tunnel_data: return "tunnel_data";
  }
  return "unknown";
}

// Why the broker closed a TCP connection (a client's own close is not counted here).
enum class TcpClose : unsigned {
  idle,         // an unfinished session, or one whose tunnel is gone, idled out
  bad_framing,  // a stream that cannot be TSP messages (tsp-protocol.md §1.4)
  tunnel_gone,  // the tunnel it was held open for went, by anything but this session's own delete
  user_deleted, // its session's user was deleted (tspctl user del) while it held no tunnel
};
inline constexpr std::array kTcpCloses{TcpClose::idle, TcpClose::bad_framing, TcpClose::tunnel_gone,
                                       TcpClose::user_deleted};

constexpr std::string_view tcp_close_name(TcpClose c) {
  switch (c) {
    case TcpClose::idle: return "idle";
    case TcpClose::bad_framing: return "bad_framing";
    case TcpClose::tunnel_gone: return "tunnel_gone";
    case TcpClose::user_deleted: return "user_deleted";
  }
  return "unknown";
}

// Which of the session limits a new session met (its client got 530).
enum class SessionLimit : unsigned {
  all,          // max sessions: unfinished sessions in all
  per_address,  // max sessions per-address: unfinished sessions from its IPv4 address
};
inline constexpr std::array kSessionLimits{SessionLimit::all, SessionLimit::per_address};

constexpr std::string_view session_limit_name(SessionLimit l) {
  switch (l) {
    case SessionLimit::all: return "all";
    case SessionLimit::per_address: return "per_address";
  }
  return "unknown";
}

class TransportCounters {
 public:
  void udp_received() noexcept { add(udp_received_); }
  void udp_sent() noexcept { add(udp_sent_); }
  void udp_dropped(UdpDrop d) noexcept { add(udp_drops_[static_cast<size_t>(d)]); }
  void udp_retransmission_answered() noexcept { add(udp_retransmissions_); }
  void tcp_accepted() noexcept { add(tcp_accepted_); }
  void tcp_closed(TcpClose c) noexcept { add(tcp_closes_[static_cast<size_t>(c)]); }
  void session_limited(SessionLimit l) noexcept { add(session_limits_[static_cast<size_t>(l)]); }

  uint64_t udp_received_count() const noexcept { return read(udp_received_); }
  uint64_t udp_sent_count() const noexcept { return read(udp_sent_); }
  uint64_t udp_drops(UdpDrop d) const noexcept { return read(udp_drops_[static_cast<size_t>(d)]); }
  uint64_t udp_retransmissions_answered() const noexcept { return read(udp_retransmissions_); }
  uint64_t tcp_accepted_count() const noexcept { return read(tcp_accepted_); }
  uint64_t tcp_closes(TcpClose c) const noexcept { return read(tcp_closes_[static_cast<size_t>(c)]); }
  uint64_t sessions_limited(SessionLimit l) const noexcept { return read(session_limits_[static_cast<size_t>(l)]); }

 private:
  using Counter = std::atomic<uint64_t>;
  static void add(Counter& c) noexcept { c.fetch_add(1, std::memory_order_relaxed); }
  static uint64_t read(const Counter& c) noexcept { return c.load(std::memory_order_relaxed); }

  Counter udp_received_{0}, udp_sent_{0}, udp_retransmissions_{0}, tcp_accepted_{0};
  std::array<Counter, kUdpDrops.size()> udp_drops_{};
  std::array<Counter, kTcpCloses.size()> tcp_closes_{};
  std::array<Counter, kSessionLimits.size()> session_limits_{};
};

}  // namespace tsp::metrics
