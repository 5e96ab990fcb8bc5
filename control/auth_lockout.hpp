// Slows password guessing down, two ways:
// - per IPv4 address: an address whose password authentications (PLAIN, DIGEST-MD5,
//   SCRAM-SHA-256) fail `failures` times within `window` seconds is locked out for `duration`
//   seconds. While locked, its attempts are refused with 300 before any credential is looked
//   at, so a guesser also stops costing the broker PBKDF2 rounds. One address spraying many
//   names is what this stops; clients sharing a carrier-grade NAT share its lockout.
// - per user name: a name whose logins fail `user_failures` times within `user_window`
//   seconds, from any addresses, is locked for `duration`: many addresses each guessing a
//   little at one account is what this stops. Unknown names are counted like real ones, so a
//   lock tells nothing about which names exist. So that an attacker cannot shut a customer out
//   by failing on purpose, the addresses that proved the user's password before (the last
//   kTrustedSourcesPerUser of them) are not held to the user's lock.
//
// Memory is bounded: at most kMaxTrackedSources addresses and kMaxTrackedUsers names are
// remembered, the stalest forgotten first (passing over locked ones: lockout_table.hpp). The
// daemon saves a snapshot to the store when it stops and restores it when it starts.
// Thread-safe: the UDP and TCP servers share one.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "config/broker_config.hpp"
#include "control/lockout_table.hpp"
#include "control/store/records.hpp"
#include "shared/net_types.hpp"

namespace tsp {

struct LockoutPolicy {
  unsigned failures = 5;       // per address; 0: never lock an address out
  unsigned window = 60;        // seconds in which an address's failures must fall
  unsigned duration = 300;     // seconds a lock lasts (addresses and users)
  unsigned user_failures = 20; // per user name, from any addresses; 0: never lock a user
  unsigned user_window = 3600; // seconds in which a user's failures must fall
};

inline LockoutPolicy lockout_policy(const config::TspConfig& tsp) {
  return {tsp.lockout_failures, tsp.lockout_window, tsp.lockout_duration, tsp.lockout_user_failures,
          tsp.lockout_user_window};
}

// One address as an operator sees it (tspctl lockouts).
struct LockoutView {
  Ipv4Addr source;
  unsigned failures = 0;     // within the current window; 0 while locked
  int64_t locked_for = 0;    // seconds left, 0 when not locked
  int64_t window_left = 0;   // seconds until its failures are forgotten, 0 when locked
};

// One user name, likewise.
struct UserLockoutView {
  std::string user;
  unsigned failures = 0;
  int64_t locked_for = 0;
  int64_t window_left = 0;
  size_t trusted_sources = 0;  // addresses that may still log in while it is locked
};

// One user name in detail (tspctl user show): its lockout state and trusted addresses.
struct UserLockoutDetail {
  unsigned failures = 0;     // within the user window; 0 while locked
  int64_t locked_for = 0;    // seconds left, 0 when not locked
  int64_t window_left = 0;   // seconds until its failures are forgotten
  std::vector<Ipv4Addr> trusted_sources;  // most recent first
};

// Addresses and user names: the locks unlock_all lifted, the records restore took back.
struct LockoutCounts {
  size_t addresses = 0;
  size_t users = 0;
};

class AuthLockout {
 public:
  static constexpr size_t kMaxTrackedSources = 65536;
  static constexpr size_t kMaxTrackedUsers = 65536;
  static constexpr size_t kTrustedSourcesPerUser = 4;
  // Longer names are counted by their first kMaxUserKeyBytes bytes (no real user's is that
  // long; it bounds the memory a client's made-up names take).
  static constexpr size_t kMaxUserKeyBytes = 128;

  explicit AuthLockout(LockoutPolicy policy = {}) : policy_(policy) {}

  // ---- Per address ----
  // Seconds the address stays locked from `now` (unix seconds), 0 when it may try.
  int64_t locked_for(Ipv4Addr source, int64_t now);
  // A failed password authentication. True when this failure locked the address.
  bool failed(Ipv4Addr source, int64_t now);
  // A successful one: the address's earlier failures are forgotten.
  void succeeded(Ipv4Addr source);

  // ---- Per user name ----
  // Seconds `user` stays locked for logins from `source`: 0 when it is not locked, or when
  // `source` proved its password before (a trusted source).
  int64_t user_locked_for(std::string_view user, Ipv4Addr source, int64_t now);
  // A failed login as `user` (known or not). True when this failure locked the name.
  bool user_failed(std::string_view user, int64_t now);
  // Whether `source` is one of `user`'s trusted sources (it proved the password there).
  bool trusted_source(std::string_view user, Ipv4Addr source) const;
  // `user` proved its password from `source`: its failures are forgotten (a running lock
  // stays: the guessing may go on elsewhere) and `source` becomes one of its trusted sources.
  void user_succeeded(std::string_view user, Ipv4Addr source, int64_t now);

  // ---- The operator's view ----
  // Every address locked at `now` or with failures in its current window, ordered by
  // address. Records whose failures have aged out are left out (they lock nothing).
  std::vector<LockoutView> view(int64_t now) const;
  // The same for user names, ordered by name.
  std::vector<UserLockoutView> user_view(int64_t now) const;
  // One name; empty when nothing about it is remembered.
  UserLockoutDetail user_detail(std::string_view user, int64_t now) const;
  // The operator's pardon: forgets the address (its lock and its failures). True when it was
  // remembered at all.
  bool unlock(Ipv4Addr source);
  // The same for a user name (its trusted sources stay): what it lifted.
  enum class Lifted { Nothing, Failures, Lock };
  Lifted unlock_user(std::string_view user, int64_t now);
  // Forgets a user name altogether: its failures, its lock and its trusted sources (a new
  // password, a deleted user). True when it was remembered.
  bool forget_user(std::string_view user);
  // Lifts every lock and forgets every failure (trusted sources stay).
  LockoutCounts unlock_all(int64_t now);

  // ---- Across a restart ----
  // What a restart must not forget, least recently touched first: locks still running at
  // `now`, failures still in their window and, for names, the trusted addresses.
  store::LockoutRecords snapshot(int64_t now) const;
  // Takes a snapshot back after a restart, in its order (what has run out by `now` is left
  // out). Returns the records taken.
  LockoutCounts restore(const store::LockoutRecords& records, int64_t now);

  // A reload: locks running now stay until their time is up.
  void set_policy(LockoutPolicy policy);
  LockoutPolicy policy() const;
  size_t tracked() const;  // addresses
  size_t locked_now(int64_t now) const;
  size_t tracked_users() const;
  size_t locked_users_now(int64_t now) const;

 private:
  // The addresses that last proved a user's password, most recent first.
  struct TrustedSources {
    std::array<uint32_t, kTrustedSourcesPerUser> addresses{};
    size_t count = 0;
    bool contains(Ipv4Addr a) const;
    void add(Ipv4Addr a);
  };
  static std::string user_key(std::string_view user);
  LockoutLimits address_limits() const { return {policy_.failures, policy_.window, policy_.duration}; }
  LockoutLimits user_limits() const { return {policy_.user_failures, policy_.user_window, policy_.duration}; }

  mutable std::mutex mutex_;
  LockoutPolicy policy_;
  LockoutTable<uint32_t> sources_{kMaxTrackedSources};
  LockoutTable<std::string, TrustedSources> users_{kMaxTrackedUsers};
};

}  // namespace tsp
