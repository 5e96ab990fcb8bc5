// The Prometheus endpoint: a small HTTP/1.1 server (Boost.Beast) on the daemon's io_context.
// GET /metrics answers the rendered text; see http_routes.hpp for the rest. Defences against
// a misbehaving client: a size limit per request, one deadline for reading each request
// (slow senders do not extend it), and a cap on open connections (over it, new ones are
// closed at once). Every call and every socket operation on the io_context's thread; only
// the rendering of the metrics runs on a thread of the server's own (with per-tunnel series
// it reads every live tunnel: ~120 ms for 100k, too long to hold the thread that serves TSP).
// `render` must therefore be safe to call from that thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace tsp::metrics {

struct HttpServerLimits {
  std::chrono::milliseconds read_timeout{10'000};  // per request, idle keep-alive included
  size_t max_connections = 32;
};

struct HttpServerCounters {
  uint64_t connections = 0, refused_connections = 0, requests = 0, bad_requests = 0, timeouts = 0;
};

class MetricsHttpServer {
 public:
  // Binds and listens at once (throws boost::system::system_error when it cannot).
  MetricsHttpServer(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& bind_to,
                    std::function<std::string()> render, HttpServerLimits limits = {});
  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  void start();
  // Stops accepting, closes every open connection and waits for a rendering in progress.
  // Idempotent.
  void stop();

  boost::asio::ip::tcp::endpoint local_endpoint() const;
  size_t open_connections() const;
  const HttpServerCounters& counters() const;

 private:
  class Connection;
  // Shared with the connections: they may outlive the server inside pending handlers.
  struct State {
    std::function<std::string()> render;
    boost::asio::thread_pool* renderer = nullptr;  // the server's; used only while !stopped
    HttpServerLimits limits;
    HttpServerCounters counters;
    std::map<uint64_t, std::weak_ptr<Connection>> open;
    uint64_t next_id = 0;
    bool stopped = false;
  };

  void accept();

  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::thread_pool renderer_{1};
  std::shared_ptr<State> state_;
};

}  // namespace tsp::metrics
