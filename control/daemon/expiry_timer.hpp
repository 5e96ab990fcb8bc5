// Expires idle tunnels once a second, on the daemon's I/O thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <ctime>

#include "control/tunnel_service.hpp"

namespace tsp::daemon {

inline int64_t unix_now() { return static_cast<int64_t>(std::time(nullptr)); }

class ExpiryTimer {
 public:
  ExpiryTimer(boost::asio::io_context& io, TunnelService& tunnels) : timer_(io), tunnels_(tunnels) {}
  void start() {
    timer_.expires_after(std::chrono::seconds(1));
    timer_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      tunnels_.expire_idle(unix_now());
      start();
    });
  }
  void stop() { timer_.cancel(); }

 private:
  boost::asio::steady_timer timer_;
  TunnelService& tunnels_;
};

}  // namespace tsp::daemon
