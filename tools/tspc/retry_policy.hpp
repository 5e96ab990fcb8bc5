// How long tspc waits before trying again (tsp-protocol.md §4.2): retry_delay, doubled after
// every 3 consecutive failures, capped at retry_delay_max; a tunnel that came up resets it.
#pragma once

#include <chrono>

namespace tsp::tspc {

class RetryPolicy {
 public:
  RetryPolicy(unsigned retry_delay_s, unsigned retry_delay_max_s);

  // The wait before the next try after one more failure.
  std::chrono::seconds next_delay();
  void reset() { failures_ = 0; }
  unsigned failures() const { return failures_; }

 private:
  unsigned delay_, max_;
  unsigned failures_ = 0;
};

}  // namespace tsp::tspc
