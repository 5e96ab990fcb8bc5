#include "tools/tspc/retry_policy.hpp"

#include <algorithm>

namespace tsp::tspc {

RetryPolicy::RetryPolicy(unsigned retry_delay_s, unsigned retry_delay_max_s)
    : delay_(retry_delay_s), max_(std::max(retry_delay_s, retry_delay_max_s)) {}

std::chrono::seconds RetryPolicy::next_delay() {
  const unsigned doublings = std::min(failures_ / 3, 12u);  // 2^12 x 3600 s is past any cap
  ++failures_;
  const unsigned long long delay = static_cast<unsigned long long>(delay_) << doublings;
  return std::chrono::seconds(std::min<unsigned long long>(delay, max_));
}

}  // namespace tsp::tspc
