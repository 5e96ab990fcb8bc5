// What the broker persists: plain value types, no SQL here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "control/credentials.hpp"
#include "shared/net_types.hpp"

namespace tsp::store {

struct UserRecord {
  std::string name;
  StoredCredentials credentials;
  bool enabled = true;
  int64_t created_at = 0;  // unix seconds
};

enum class TunnelModeRec : uint8_t { V6V4 = 1, V6UDPV4 = 2 };

// A live tunnel, kept so that a restarted daemon forwards again without clients reconnecting.
struct TunnelRecord {
  uint32_t id = 0;
  std::string user;  // empty for anonymous
  bool anonymous = false;
  TunnelModeRec mode = TunnelModeRec::V6V4;
  Ipv4Addr client_v4;
  uint16_t client_port = 0;
  Ipv4Addr server_v4;
  uint16_t server_port = 0;
  Ipv6Addr client_v6;
  Ipv6Addr server_v6;
  std::string endpoint_pool;
  std::optional<Ipv6Prefix> prefix;
  std::string prefix_pool;  // empty if no prefix
  uint32_t keepalive_interval = 0;
  uint16_t mtu = 0;
  std::string dns_names;  // ':'-joined
  std::string transport;  // "udp" | "tcp"
  int64_t created_at = 0;
  int64_t last_seen = 0;
  friend bool operator==(const TunnelRecord&, const TunnelRecord&) = default;
};

// The stable block of a registered user in one pool: the same one comes back on reconnect.
struct AllocationRecord {
  std::string user;
  std::string pool;
  Ipv6Prefix block;
  friend bool operator==(const AllocationRecord&, const AllocationRecord&) = default;
};

// A released anonymous block that must not be handed out again before `until` (unix seconds).
struct QuarantineRecord {
  std::string pool;
  Ipv6Prefix block;
  int64_t until = 0;
  friend bool operator==(const QuarantineRecord&, const QuarantineRecord&) = default;
};

// Password-guessing state (control/auth_lockout.hpp) kept across a restart: an address's or a
// user name's failures in their window and its lock; for a name, also the addresses that
// proved its password, most recent first.
struct SourceLockoutRecord {
  Ipv4Addr address;
  int64_t window_start = 0;
  uint32_t failures = 0;
  int64_t locked_until = 0;
  friend bool operator==(const SourceLockoutRecord&, const SourceLockoutRecord&) = default;
};
struct UserLockoutRecord {
  std::string name;
  int64_t window_start = 0;
  uint32_t failures = 0;
  int64_t locked_until = 0;
  std::vector<Ipv4Addr> trusted_sources;
  friend bool operator==(const UserLockoutRecord&, const UserLockoutRecord&) = default;
};
// Each list least recently touched first: reloading in that order keeps the eviction order.
struct LockoutRecords {
  std::vector<SourceLockoutRecord> sources;
  std::vector<UserLockoutRecord> users;
  friend bool operator==(const LockoutRecords&, const LockoutRecords&) = default;
};

}  // namespace tsp::store
