// Removes tunnel history older than `history keep DAYS` on the daemon's I/O thread: once
// at start, then every hour, in slices of a few thousand records so that a large backlog
// (the first run after a long time, or a shortened retention) never holds the I/O thread,
// or the history's writer, for long.
#pragma once

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>

#include "control/daemon/expiry_timer.hpp"
#include "control/store/tunnel_history.hpp"

namespace tsp::daemon {

class HistoryPruner {
 public:
  static constexpr size_t kSlice = 5000;
  static constexpr std::chrono::hours kEvery{1};

  // `keep_days`: the retention in force (a reload may change it); 0 keeps everything.
  HistoryPruner(boost::asio::io_context& io, store::TunnelHistory& history, std::function<uint32_t()> keep_days)
      : timer_(io), history_(history), keep_days_(std::move(keep_days)) {}

  void start() { run_after(std::chrono::seconds(0)); }
  void stop() { timer_.cancel(); }

 private:
  void run_after(std::chrono::steady_clock::duration delay) {
    timer_.expires_after(delay);
    timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) run_after(prune_slice() ? std::chrono::steady_clock::duration::zero() : kEvery);
    });
  }

  // True when the slice was full: more may be due, right after the loop's other work.
  bool prune_slice() {
    const uint32_t days = keep_days_();
    if (days == 0) return false;
    const int64_t before = unix_now() - int64_t{days} * 86400;
    try {
      const size_t removed = history_.prune(before, kSlice);
      pruned_ += removed;
      if (removed == kSlice) return true;
      if (pruned_ > 0) spdlog::info("tunnel history: {} record(s) that ended over {} day(s) ago removed", pruned_, days);
    } catch (const store::StoreError& e) {
      spdlog::error("tunnel history: pruning failed (tried again in an hour): {}", e.what());
    }
    pruned_ = 0;
    return false;
  }

  boost::asio::steady_timer timer_;
  store::TunnelHistory& history_;
  std::function<uint32_t()> keep_days_;
  size_t pruned_ = 0;  // in this run, over its slices
};

}  // namespace tsp::daemon
