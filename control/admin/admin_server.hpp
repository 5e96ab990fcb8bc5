// The admin socket: a Unix stream socket on the daemon's io_context where tspctl talks to the
// daemon (admin_protocol.hpp). Only root, or members of the configured group, get answers:
// the file's mode keeps others out, the peer's credentials are checked again on accept.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "control/admin/admin_commands.hpp"
#include "control/admin/peer_credentials.hpp"

namespace tsp::admin {

class AdminConnection;

class AdminServer {
 public:
  // More connections at once than this are closed at accept.
  static constexpr size_t kMaxConnections = 64;

  // A connection whose peer neither sends a request nor reads its reply for this long is closed.
  static constexpr std::chrono::milliseconds kDefaultIdleTimeout{60'000};

  AdminServer(boost::asio::io_context& io, AdminCommands& commands, std::string path, AccessPolicy policy,
              std::chrono::milliseconds idle_timeout = kDefaultIdleTimeout);
  ~AdminServer();  // stop()
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Creates the socket file (see admin_socket_file.hpp) and starts accepting. Throws
  // std::runtime_error or boost::system::system_error naming the path.
  void start();
  // Idempotent: stops accepting, closes every connection, removes the socket file.
  void stop();
  const std::string& path() const { return path_; }

 private:
  void accept();

  boost::asio::io_context& io_;
  AdminCommands& commands_;
  std::string path_;
  AccessPolicy policy_;
  std::chrono::milliseconds idle_timeout_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  boost::asio::steady_timer retry_;  // after a failed accept (EMFILE): no busy loop
  boost::asio::thread_pool renderer_{1};  // builds big replies off the I/O thread
  std::vector<std::weak_ptr<AdminConnection>> connections_;
  bool listening_ = false;
};

}  // namespace tsp::admin
