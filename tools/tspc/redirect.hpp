// Broker redirection (tsp-protocol.md §6): measure the distance to each listed broker with a
// reliable-UDP "ECHO REQUEST" to its port 3653 (the answer must start with 200), then walk
// the list nearest first; brokers that did not answer come last, in the order listed.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "tools/tspc/broker_target.hpp"
#include "tools/tspc/control_transport.hpp"

namespace tsp::tspc {

struct BrokerProbe {
  std::string address;                          // as listed
  std::optional<std::chrono::milliseconds> rtt;  // nullopt: no answer (or not reachable)
};

// Answered brokers by increasing RTT (ties keep the listed order), then the others as listed.
std::vector<std::string> order_brokers(const std::vector<BrokerProbe>& probes);

// One ECHO REQUEST exchange (up to 3 tries, 2 s apart); nullopt when it fails.
std::optional<std::chrono::milliseconds> probe_broker(const BrokerTarget& target, const LogFn& log);

// Probes every listed broker in parallel (port 3653, names resolved, IPv6 skipped) and
// returns them nearest first.
std::vector<std::string> rank_brokers(const std::vector<std::string>& brokers, const LogFn& log);

}  // namespace tsp::tspc
