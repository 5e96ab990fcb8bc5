// Caps the number of unfinished TSP sessions across UDP and TCP, in all and from each IPv4
// address, so a flood of half-open sessions costs bounded memory, one source cannot take every
// slot from the others, and real clients get "530 Server too busy" instead of silence.
// Thread-safe: the UDP and TCP servers run on their own threads and share one limiter. Its
// mutex is taken once when a session starts and once when it finishes, never per message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "control/metrics/transport_counters.hpp"
#include "shared/net_types.hpp"

namespace tsp {

class SessionLimiter {
 public:
  enum class Admission { admitted, full, address_full };

  // per_address 0: no limit of its own.
  explicit SessionLimiter(size_t limit, size_t per_address = 0) : limit_(limit), per_address_(per_address) {}

  // A session from `addr` may start (and must release() when it finishes), or which limit
  // refused it.
  Admission try_acquire(Ipv4Addr addr) {
    std::lock_guard lock(mu_);
    if (active_ >= limit_) return Admission::full;
    if (per_address_ != 0) {
      const auto it = by_address_.find(addr.value);
      if (it != by_address_.end() && it->second >= per_address_) return Admission::address_full;
    }
    ++active_;
    ++by_address_[addr.value];
    return Admission::admitted;
  }
  void release(Ipv4Addr addr) {
    std::lock_guard lock(mu_);
    const auto it = by_address_.find(addr.value);
    if (it == by_address_.end()) return;
    if (--it->second == 0) by_address_.erase(it);
    --active_;
  }

  size_t active() const {
    std::lock_guard lock(mu_);
    return active_;
  }
  // For /metrics: the unfinished sessions, the addresses they come from, and how many of
  // those are at their limit (a walk of the addresses: at most one per unfinished session).
  struct Figures {
    size_t unfinished = 0, addresses = 0, addresses_at_limit = 0;
  };
  Figures figures() const {
    std::lock_guard lock(mu_);
    Figures f{active_, by_address_.size(), 0};
    if (per_address_ != 0) {
      for (const auto& [addr, n] : by_address_) f.addresses_at_limit += n >= per_address_;
    }
    return f;
  }

  // tspctl sources: each address with unfinished sessions, and how many; the limits in force.
  struct Snapshot {
    size_t limit = 0, per_address = 0;
    std::vector<std::pair<Ipv4Addr, size_t>> by_address;
  };
  Snapshot snapshot() const {
    std::lock_guard lock(mu_);
    Snapshot s{limit_, per_address_, {}};
    s.by_address.reserve(by_address_.size());
    for (const auto& [addr, n] : by_address_) s.by_address.emplace_back(Ipv4Addr{addr}, n);
    return s;
  }

  // A reload: sessions already over a lower limit finish; new ones wait for room.
  void set_limits(size_t limit, size_t per_address) {
    std::lock_guard lock(mu_);
    limit_ = limit;
    per_address_ = per_address;
  }

 private:
  mutable std::mutex mu_;
  size_t limit_;
  size_t per_address_;
  size_t active_ = 0;
  std::unordered_map<uint32_t, size_t> by_address_;  // only addresses with unfinished sessions
};

// The limit that refused a session, as the metrics name it.
constexpr metrics::SessionLimit limit_met(SessionLimiter::Admission refused) {
  return refused == SessionLimiter::Admission::address_full ? metrics::SessionLimit::per_address
                                                             : metrics::SessionLimit::all;
}

}  // namespace tsp
