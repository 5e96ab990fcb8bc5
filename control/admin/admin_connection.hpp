// One tspctl connection on the admin socket: the peer is checked once (SO_PEERCRED), then
// requests are read one line at a time and answered in order. Runs on the daemon's I/O
// thread; a reply that must be rendered (the tunnel listing) is built on the renderer pool
// and written asynchronously, so a big listing never holds the I/O thread.
#pragma once

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "control/admin/admin_commands.hpp"
#include "control/admin/peer_credentials.hpp"

namespace tsp::admin {

class AdminConnection : public std::enable_shared_from_this<AdminConnection> {
 public:
  using Socket = boost::asio::local::stream_protocol::socket;

  // `idle_timeout`: how long the peer may take to send a request or to read a reply before
  // the connection is closed (a stuck tspctl must not hold one of the few slots forever).
  AdminConnection(Socket socket, AdminCommands& commands, const AccessPolicy& policy,
                  boost::asio::thread_pool& renderer, std::chrono::milliseconds idle_timeout);
  void start();
  // Closes the socket; handlers still queued see the connection closed and do nothing.
  void close();

 private:
  void read_request();
  void handle_line(const std::string& line);
  void send(std::string reply, bool close_after);
  void wait_for_peer();  // (re)arms the idle deadline

  Socket socket_;
  AdminCommands& commands_;
  const AccessPolicy& policy_;
  boost::asio::thread_pool& renderer_;
  boost::asio::steady_timer deadline_;
  std::chrono::milliseconds idle_timeout_;
  boost::asio::streambuf input_;
  std::string reply_;
  std::string peer_;  // "uid N pid M", for the log
  bool closed_ = false;
};

}  // namespace tsp::admin
