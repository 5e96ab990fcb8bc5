// The control plane's own counters: what happened to TSP sessions and authentications. The
// sessions and servers bump them (through SessionEnv::counters), the metrics collector reads
// them. Relaxed atomics: today one Asio thread writes, but the admin socket and load tools may
// add threads, and a scrape may read from another one; a counter needs no ordering.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/broker_config.hpp"
#include "control/metrics/transport_counters.hpp"
#include "control/status_codes.hpp"

namespace tsp::metrics {

// How one TSP exchange ended. A session may go through several (a refused create, then a
// successful one); each outcome is counted when it happens.
enum class SessionResult : unsigned {
  accepted,    // the client accepted an offer: a tunnel is up
  refused,     // the broker answered with an error status (counted by code as well)
  redirected,  // sent to another broker (1200)
  rejected,    // the client rejected the offer
  timeout,     // an unfinished session idled out and was closed
};
inline constexpr size_t kSessionResultCount = 5;

constexpr std::string_view session_result_name(SessionResult r) {
  switch (r) {
    case SessionResult::accepted: return "accepted";
    case SessionResult::refused: return "refused";
    case SessionResult::redirected: return "redirected";
    case SessionResult::rejected: return "rejected";
    case SessionResult::timeout: return "timeout";
  }
  return "unknown";
}

// Every status a refusal can carry, in the order the metrics list them.
inline constexpr std::array kRefusalStatuses{
    Status::AuthenticationFailed,    Status::NoMoreTunnels,         Status::UnsupportedVersion,
    Status::UnsupportedTunnelType,   Status::ServerError,           Status::InvalidRequest,
    Status::InvalidIpv4,             Status::InvalidIpv6,           Status::Ipv4AlreadyUsed,
    Status::PrefixLengthUnavailable, Status::DnsDelegationError,    Status::UnsupportedPrefixLength,
    Status::MissingPrefixLength,     Status::RequestInProgress,     Status::PrefixForAnonymous,
    Status::ServerTooBusy,
};

inline constexpr std::array kAuthMechanisms{config::AuthMechanism::ScramSha256, config::AuthMechanism::DigestMd5,
                                            config::AuthMechanism::Plain, config::AuthMechanism::Anonymous};

// Lower case, as the configuration file writes them.
constexpr std::string_view auth_mechanism_name(config::AuthMechanism m) {
  switch (m) {
    case config::AuthMechanism::DigestMd5: return "digest-md5";
    case config::AuthMechanism::ScramSha256: return "scram-sha-256";
    case config::AuthMechanism::Plain: return "plain";
    case config::AuthMechanism::Anonymous: return "anonymous";
  }
  return "unknown";
}

// locked_out: refused unchecked, the address being locked out (control/auth_lockout.hpp).
// busy: PLAIN refused unchecked because the password checker's queue was full.
enum class AuthResult : unsigned { success, failure, locked_out, busy };
inline constexpr std::array kAuthResults{AuthResult::success, AuthResult::failure, AuthResult::locked_out,
                                         AuthResult::busy};

constexpr std::string_view auth_result_name(AuthResult r) {
  switch (r) {
    case AuthResult::success: return "success";
    case AuthResult::failure: return "failure";
    case AuthResult::locked_out: return "locked_out";
    case AuthResult::busy: return "busy";
  }
  return "unknown";
}

class ControlCounters {
 public:
  // One relaxed atomic; copyable snapshots are taken by reading each one.
  class Counter {
   public:
    void add(uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
    uint64_t read() const noexcept { return value_.load(std::memory_order_relaxed); }

   private:
    std::atomic<uint64_t> value_{0};
  };

  void session(SessionResult r) noexcept { sessions_[static_cast<size_t>(r)].add(); }
  // A refusal: one session result `refused`, and one count for its status code. A status that
  // is no refusal (200, 1200) is counted under refused_other().
  void refused(Status s) noexcept {
    session(SessionResult::refused);
    for (size_t i = 0; i < kRefusalStatuses.size(); ++i) {
      if (kRefusalStatuses[i] == s) {
        refusals_[i].add();
        return;
      }
    }
    refused_other_.add();
  }
  void authentication(config::AuthMechanism m, AuthResult r) noexcept {
    auth_[mechanism_index(m)][static_cast<size_t>(r)].add();
  }

  uint64_t sessions(SessionResult r) const noexcept { return sessions_[static_cast<size_t>(r)].read(); }
  uint64_t refusals(Status s) const noexcept {
    for (size_t i = 0; i < kRefusalStatuses.size(); ++i)
      if (kRefusalStatuses[i] == s) return refusals_[i].read();
    return 0;
  }
  uint64_t refused_other() const noexcept { return refused_other_.read(); }
  // The servers' own: drops, retransmissions, TCP connections (transport_counters.hpp).
  TransportCounters& transport() noexcept { return transport_; }
  const TransportCounters& transport() const noexcept { return transport_; }
  uint64_t authentications(config::AuthMechanism m, AuthResult r) const noexcept {
    return auth_[mechanism_index(m)][static_cast<size_t>(r)].read();
  }

 private:
  static constexpr size_t mechanism_index(config::AuthMechanism m) noexcept {
    for (size_t i = 0; i < kAuthMechanisms.size(); ++i)
      if (kAuthMechanisms[i] == m) return i;
    return 0;  // not reached: every mechanism is listed
  }

  std::array<Counter, kSessionResultCount> sessions_;
  std::array<Counter, kRefusalStatuses.size()> refusals_;
  Counter refused_other_;
  std::array<std::array<Counter, kAuthResults.size()>, kAuthMechanisms.size()> auth_;
  TransportCounters transport_;
};

}  // namespace tsp::metrics
