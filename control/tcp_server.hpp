// TSP over TCP (tsp-protocol.md §1.4): the stream is cut into messages by TcpMessageSplitter;
// every reply goes out as its own write (legacy clients read with a single recv()), and
// unfinished sessions are closed after the configured idle time.
//
// The server runs on its own thread with its own io_context: on loopback most of a session's
// cost is the kernel's (sends run the receiver's side of TCP too), and one thread for UDP
// and TCP together capped the broker at one core. What the sessions share is thread-safe:
// TunnelService and the store take their mutexes, the counters are atomic, the limiter too.
// Connections and the acceptor belong to the server's thread.
//
// A connection whose session put a tunnel live is held open while that tunnel lives (gogoc
// keeps it for the tunnel's life); when the tunnel goes by anything but the session's own
// delete (kicked, expired, replaced, deleted by another of its user's sessions, its user
// deleted) the connection is closed at once, the one signal a TCP client gets.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <optional>
#include <thread>
#include <unordered_map>

#include "control/session_limiter.hpp"
#include "control/tsp_session.hpp"

namespace tsp {

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

 private:
  class Connection;
  void accept();
  void on_accepted(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);
  // The connection holding tunnel commit `serial` open; told when TunnelService reports it gone.
  void hold_for_tunnel(uint64_t serial, const std::shared_ptr<Connection>& conn);
  void on_tunnel_gone(const LiveTunnel& tunnel);

  boost::asio::io_context& owner_io_;  // gets what the server's thread throws
  // Before the acceptor: destroyed after it, with the handlers (and connections) it holds.
  boost::asio::io_context io_{1};
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread thread_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::ip::tcp::endpoint peer_;  // the client of the connection just accepted
  SessionEnv& env_;
  SessionLimiter& limiter_;
  // The daemon's (SessionEnv::counters, exported as metrics) or, without them, the server's own.
  metrics::TransportCounters own_transport_;
  metrics::TransportCounters& transport_;
  bool stopped_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // connections outlive stop()
  // By commit serial. An entry goes when its tunnel does (a connection that closes first
  // leaves an expired pointer until then): at most one per tunnel committed over TCP.
  std::unordered_map<uint64_t, std::weak_ptr<Connection>> held_for_tunnel_;
  uint64_t gone_watch_ = 0;  // TunnelService::watch_gone's handle
  uint64_t user_watch_ = 0;  // TunnelService::watch_users_removed's handle
  // Every connection started and not yet destroyed, for the news of a deleted user.
  std::unordered_map<Connection*, std::weak_ptr<Connection>> connections_;
};

}  // namespace tsp
