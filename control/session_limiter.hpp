// Caps the number of unfinished TSP sessions across UDP and TCP, so a flood of half-open
// sessions costs bounded memory and real clients get "530 Server too busy" instead of silence.
// Used from the control plane's single I/O thread only.
#pragma once

#include <cstddef>

namespace tsp {

class SessionLimiter {
 public:
  explicit SessionLimiter(size_t limit) : limit_(limit) {}
  bool try_acquire() {
    if (active_ >= limit_) return false;
    ++active_;
    return true;
  }
  void release() {
    if (active_ > 0) --active_;
  }
  size_t active() const { return active_; }
  // A reload: sessions already over a lower limit finish; new ones wait for room.
  void set_limit(size_t limit) { limit_ = limit; }

 private:
  size_t limit_;
  size_t active_ = 0;
};

}  // namespace tsp
