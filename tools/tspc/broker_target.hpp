// Where a TSP session goes: the configured server, or a broker named in a redirection (§6).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "shared/net_types.hpp"

namespace tsp::tspc {

struct BrokerTarget {
  Ipv4Addr address;
  uint16_t port = 3653;
  std::string text;  // as configured or listed: the DIGEST-MD5 digest-uri host and the logs
};

// An IPv4 literal or a host name (resolved to its first IPv4 address). IPv6 brokers are
// refused: this client has no IPv6 transport (gogoc has none on Linux either). Returns the
// target or the reason.
std::variant<BrokerTarget, std::string> resolve_broker(const std::string& host, uint16_t port, std::string text);

// Sleeps `duration` in short steps; false as soon as `stop` is raised.
bool sleep_unless_stopped(std::chrono::milliseconds duration, const std::atomic<bool>& stop);

}  // namespace tsp::tspc
