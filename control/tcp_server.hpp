// TSP over TCP (tsp-protocol.md §1.4): the stream is cut into messages by TcpMessageSplitter;
// every reply goes out as its own write (legacy clients read with a single recv()), and
// unfinished sessions are closed after the configured idle time.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "control/session_limiter.hpp"
#include "control/tsp_session.hpp"

namespace tsp {

struct TcpServerCounters {
  uint64_t accepted = 0, refused_busy = 0, closed_idle = 0, closed_bad_framing = 0;
};

class TcpTspServer {
 public:
  TcpTspServer(boost::asio::io_context& io, SessionEnv& env, SessionLimiter& limiter,
               const boost::asio::ip::tcp::endpoint& bind_to);
  ~TcpTspServer();
  void start();
  void stop();
  const TcpServerCounters& counters() const { return counters_; }

 private:
  class Connection;
  void accept();

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  SessionEnv& env_;
  SessionLimiter& limiter_;
  TcpServerCounters counters_;
  bool stopped_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // connections outlive stop()
};

}  // namespace tsp
