// TSP over TCP (tsp-protocol.md §1.4): the stream is cut into messages by TcpMessageSplitter;
// every reply goes out as its own write (legacy clients read with a single recv()), and
// unfinished sessions are closed after the configured idle time.
//
// The server runs on its own thread with its own io_context: on loopback most of a session's
// cost is the kernel's (sends run the receiver's side of TCP too), and one thread for UDP
// and TCP together capped the broker at one core. What the sessions share is thread-safe:
// TunnelService and the store take their mutexes, the counters are atomic, the limiter too.
// Connections, the acceptor and counters() belong to the server's thread.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <optional>
#include <thread>

#include "control/session_limiter.hpp"
#include "control/tsp_session.hpp"

namespace tsp {

struct TcpServerCounters {
  uint64_t accepted = 0, refused_busy = 0, closed_idle = 0, closed_bad_framing = 0;
};

class TcpTspServer {
 public:
  // `io` is the caller's I/O loop; the server binds at once but serves on its own thread.
  TcpTspServer(boost::asio::io_context& io, SessionEnv& env, SessionLimiter& limiter,
               const boost::asio::ip::tcp::endpoint& bind_to);
  // Closes every connection and joins the server's thread.
  ~TcpTspServer();
  TcpTspServer(const TcpTspServer&) = delete;
  TcpTspServer& operator=(const TcpTspServer&) = delete;
  void start();
  // Closes the listening socket (on the server's thread, shortly after); connections in
  // progress go on until the server is destroyed.
  void stop();
  const TcpServerCounters& counters() const { return counters_; }

 private:
  class Connection;
  void accept();
  void on_accepted(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& owner_io_;  // gets what the server's thread throws
  // Before the acceptor: destroyed after it, with the handlers (and connections) it holds.
  boost::asio::io_context io_{1};
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread thread_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::ip::tcp::endpoint peer_;  // the client of the connection just accepted
  SessionEnv& env_;
  SessionLimiter& limiter_;
  TcpServerCounters counters_;
  bool stopped_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // connections outlive stop()
};

}  // namespace tsp
