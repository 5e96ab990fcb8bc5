// Caps the number of unfinished TSP sessions across UDP and TCP, so a flood of half-open
// sessions costs bounded memory and real clients get "530 Server too busy" instead of silence.
// Thread-safe: the UDP and TCP servers run on their own threads and share one limiter.
#pragma once

#include <atomic>
#include <cstddef>

namespace tsp {

class SessionLimiter {
 public:
  explicit SessionLimiter(size_t limit) : limit_(limit) {}
  bool try_acquire() {
    size_t now = active_.load(std::memory_order_relaxed);
    do {
      if (now >= limit_.load(std::memory_order_relaxed)) return false;
    } while (!active_.compare_exchange_weak(now, now + 1, std::memory_order_relaxed));
    return true;
  }
  void release() {
    size_t now = active_.load(std::memory_order_relaxed);
    do {
      if (now == 0) return;
    } while (!active_.compare_exchange_weak(now, now - 1, std::memory_order_relaxed));
  }
  size_t active() const { return active_.load(std::memory_order_relaxed); }
  // A reload: sessions already over a lower limit finish; new ones wait for room.
  void set_limit(size_t limit) { limit_.store(limit, std::memory_order_relaxed); }

 private:
  std::atomic<size_t> limit_;
  std::atomic<size_t> active_{0};
};

}  // namespace tsp
