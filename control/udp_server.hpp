// TSP over UDP (tsp-protocol.md §1.2-§1.3): one session per client address and port, the
// 8-byte RUDP header echoed verbatim, and the last reply cached per session so that a
// retransmitted request (same sequence word) gets the same answer without advancing the state.
//
// Datagrams are read in batches (recvmmsg) and replies leave a few at a time (sendmmsg):
// with thousands of clients in flight the per-datagram system calls, and the wake-ups of the
// clients' processes one reply at a time, were a large part of the I/O thread's time.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "control/rudp.hpp"
#include "control/session_limiter.hpp"
#include "control/tsp_session.hpp"

namespace tsp {

class UdpTspServer {
 public:
  UdpTspServer(boost::asio::io_context& io, SessionEnv& env, SessionLimiter& limiter,
               const boost::asio::ip::udp::endpoint& bind_to);
  ~UdpTspServer();
  UdpTspServer(const UdpTspServer&) = delete;
  UdpTspServer& operator=(const UdpTspServer&) = delete;
  void start();
  void stop();
  // Draining: sessions in progress go on, a new one is answered "530 Server too busy".
  void stop_accepting() { accepting_ = false; }
  size_t sessions() const { return sessions_.size(); }

 private:
  struct Slot {
    std::unique_ptr<TspSession> session;
    uint32_t last_sequence = 0;
    bool seen_request = false;
    bool answered = false;
    std::string last_reply;  // payload after the header
    std::chrono::steady_clock::time_point last_active;
    bool holds_limit = false;
    uint64_t serial = 0;  // tells a password check's verdict whether this is still its session
    // While its PLAIN password is checked: the datagram the verdict answers.
    RudpHeader pending_header{};
    sockaddr_in pending_from{};
  };
  using Sessions = std::unordered_map<uint64_t, Slot>;  // key: IPv4 address << 16 | port
  struct Batch;  // the recvmmsg/sendmmsg buffers

  void wait_readable();
  void drain();
  void on_datagram(std::string_view datagram, const sockaddr_storage& from);
  // The session's answer to the datagram of `h`: sent, cached for retransmissions, and the
  // session's limit and life updated. `out` may instead hand out a password check.
  void answer(Sessions::iterator it, const RudpHeader& h, const sockaddr_in& to, SessionOutput out,
              bool was_established);
  void check_password(Sessions::iterator it, PasswordCheck check);
  void on_password_checked(uint64_t key, uint64_t serial, uint64_t ticket, PasswordVerdict verdict);
  // Queues a reply for the end of the batch (the payload is copied).
  void send(const RudpHeader& h, std::string_view payload, const sockaddr_in& to);
  void send_queued();
  void erase(Sessions::iterator it);
  void schedule_sweep();
  // The sessions logged in as `user`, who was deleted (tspctl user del), end.
  void end_sessions_of(const std::string& user);

  boost::asio::io_context& io_;
  boost::asio::ip::udp::socket socket_;
  boost::asio::steady_timer sweep_timer_;
  SessionEnv& env_;
  SessionLimiter& limiter_;
  Sessions sessions_;
  std::unique_ptr<Batch> batch_;
  std::chrono::steady_clock::time_point batch_now_;  // one clock read per batch
  // The daemon's (SessionEnv::counters, exported as metrics) or, without them, the server's own.
  metrics::TransportCounters own_transport_;
  metrics::TransportCounters& transport_;
  bool stopped_ = false;
  bool accepting_ = true;
  uint64_t next_serial_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // expires with the server: posted handlers check
  uint64_t user_watch_ = 0;  // TunnelService::watch_users_removed's handle
};

}  // namespace tsp
