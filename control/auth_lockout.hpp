// Slows password guessing down: an IPv4 address whose password authentications (PLAIN,
// DIGEST-MD5, SCRAM-SHA-256) fail `failures` times within `window` seconds is locked out for
// `duration` seconds. While locked, its attempts are refused with 300 before any credential is
// looked at, so a guesser also stops costing the broker PBKDF2 rounds.
//
// Keyed by address, not by user name: one address spraying many names is what this must stop.
// The price is that clients sharing a carrier-grade NAT share a lockout; `lockout failures 0`
// turns it off. Memory is bounded: at most kMaxTrackedSources addresses are remembered, the
// stalest forgotten first. Thread-safe: the UDP and TCP servers share one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "config/broker_config.hpp"
#include "shared/net_types.hpp"

namespace tsp {

struct LockoutPolicy {
  unsigned failures = 5;   // 0: never lock out
  unsigned window = 60;    // seconds in which the failures must fall
  unsigned duration = 300; // seconds an address stays locked
};

inline LockoutPolicy lockout_policy(const config::TspConfig& tsp) {
  return {tsp.lockout_failures, tsp.lockout_window, tsp.lockout_duration};
}

// One address as an operator sees it (tspctl lockouts).
struct LockoutView {
  Ipv4Addr source;
  unsigned failures = 0;     // within the current window; 0 while locked
  int64_t locked_for = 0;    // seconds left, 0 when not locked
  int64_t window_left = 0;   // seconds until its failures are forgotten, 0 when locked
};

class AuthLockout {
 public:
  static constexpr size_t kMaxTrackedSources = 65536;

  explicit AuthLockout(LockoutPolicy policy = {}) : policy_(policy) {}

  // Seconds the address stays locked from `now` (unix seconds), 0 when it may try.
  int64_t locked_for(Ipv4Addr source, int64_t now);
  // A failed password authentication. True when this failure locked the address.
  bool failed(Ipv4Addr source, int64_t now);
  // A successful one: the address's earlier failures are forgotten.
  void succeeded(Ipv4Addr source);

  // Every address locked at `now` or with failures in its current window, ordered by
  // address. Records whose failures have aged out are left out (they lock nothing).
  std::vector<LockoutView> view(int64_t now) const;
  // The operator's pardon: forgets the address (its lock and its failures). True when it was
  // remembered at all.
  bool unlock(Ipv4Addr source);
  // Forgets every address; returns how many were locked at `now`.
  size_t unlock_all(int64_t now);

  // A reload: addresses locked now stay locked until their time is up.
  void set_policy(LockoutPolicy policy);
  LockoutPolicy policy() const;
  size_t tracked() const;
  size_t locked_now(int64_t now) const;

 private:
  struct Record {
    int64_t window_start = 0;
    unsigned failures = 0;
    int64_t locked_until = 0;
    std::list<uint32_t>::iterator age;  // place in oldest_, for eviction
  };
  void forget(std::unordered_map<uint32_t, Record>::iterator it);
  void touch(Record& r);  // now the most recently failed

  mutable std::mutex mutex_;
  LockoutPolicy policy_;
  std::unordered_map<uint32_t, Record> records_;
  std::list<uint32_t> oldest_;  // least recently failed first
};

}  // namespace tsp
