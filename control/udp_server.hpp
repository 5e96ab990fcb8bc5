// TSP over UDP (tsp-protocol.md §1.2-§1.3): one session per client address and port, the
// 8-byte RUDP header echoed verbatim, and the last reply cached per session so that a
// retransmitted request (same sequence word) gets the same answer without advancing the state.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "control/rudp.hpp"
#include "control/session_limiter.hpp"
#include "control/tsp_session.hpp"

namespace tsp {

struct UdpServerCounters {
  uint64_t datagrams = 0, replies = 0, retransmissions_answered = 0, dropped_unknown_session = 0,
           dropped_malformed = 0, dropped_data = 0, refused_busy = 0;
};

class UdpTspServer {
 public:
  UdpTspServer(boost::asio::io_context& io, SessionEnv& env, SessionLimiter& limiter,
               const boost::asio::ip::udp::endpoint& bind_to);
  void start();
  void stop();
  // Draining: sessions in progress go on, a new one is answered "530 Server too busy".
  void stop_accepting() { accepting_ = false; }
  const UdpServerCounters& counters() const { return counters_; }
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
  };
  using Key = std::pair<uint32_t, uint16_t>;

  void receive();
  void on_datagram(std::string_view datagram, const boost::asio::ip::udp::endpoint& from);
  void send(const RudpHeader& h, std::string_view payload, const boost::asio::ip::udp::endpoint& to);
  void erase(std::map<Key, Slot>::iterator it);
  void schedule_sweep();

  boost::asio::ip::udp::socket socket_;
  boost::asio::steady_timer sweep_timer_;
  SessionEnv& env_;
  SessionLimiter& limiter_;
  std::map<Key, Slot> sessions_;
  std::array<char, 65536> buffer_{};
  boost::asio::ip::udp::endpoint from_;
  UdpServerCounters counters_;
  bool stopped_ = false;
  bool accepting_ = true;
};

}  // namespace tsp
