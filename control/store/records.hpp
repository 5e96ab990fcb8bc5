// What the broker persists: plain value types, no SQL here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

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

// Why a tunnel ended, as its history keeps it (tunnel_history.end_reason).
enum class TunnelEnd : uint8_t {
  Deleted,      // the client's own delete, or its TCP connection closed
  Kicked,       // tspctl kick
  Expired,      // keepalives missed
  Replaced,     // the same user, or the same NAT mapping, set up a new tunnel
  Evicted,      // another client's tunnel took its outer address
  UserDeleted,  // tspctl user del
  Unfit,        // at start: no longer fits the configuration (pools, table)
  Failed,       // its publication to the dataplane failed right after its commit
  Lost,         // at start: the store held no tunnel for it any more (a crash lost it)
};
std::string_view tunnel_end_text(TunnelEnd why);

// One tunnel's life, kept after it ends so that an operator can answer "who had this address
// (or this IPv4 source) at that time": what abuse desks and log retention rules ask.
struct TunnelHistoryRecord {
  int64_t seq = 0;  // order of starts
  uint32_t tunnel_id = 0;
  std::string user;  // empty for anonymous
  bool anonymous = false;
  TunnelModeRec mode = TunnelModeRec::V6V4;
  Ipv4Addr client_v4;
  uint16_t client_port = 0;
  Ipv6Addr client_v6;
  std::optional<Ipv6Prefix> prefix;
  std::string transport;
  int64_t started_at = 0;
  std::optional<int64_t> ended_at;  // none while live
  std::string end_reason;           // tunnel_end_text, empty while live
  friend bool operator==(const TunnelHistoryRecord&, const TunnelHistoryRecord&) = default;
};

// What find_history looks for: tunnels with this IPv6 address (their /128 or inside their
// prefix), this client IPv4 address, or this user (at least one), optionally live at `at`;
// newest first, at most `limit`.
struct HistoryQuery {
  std::optional<Ipv6Addr> ipv6;
  std::optional<Ipv4Addr> ipv4;
  std::optional<std::string> user;
  std::optional<int64_t> at;
  size_t limit = 100;
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
