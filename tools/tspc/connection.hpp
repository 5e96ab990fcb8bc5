// Getting a tunnel offer from a broker: the transport and version cycle of version_fallback
// around negotiate(), and redirections followed to the nearest listed broker.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include "tools/tspc/broker_target.hpp"
#include "tools/tspc/negotiation.hpp"

namespace tsp::tspc {

struct ConnectOptions {
  bool boot = false;  // -b: no UDP->TCP fallback
  LogFn log;
  const std::atomic<bool>* stop = nullptr;  // raised by a signal: give up between steps
  std::chrono::milliseconds version_fallback_delay{5000};  // gogoc's wait after a 302 on UDP
  // TCP read time-out of the transports.
  std::chrono::milliseconds tcp_read_timeout{30000};
};

struct Connection {
  NegotiationOutcome outcome;                    // Tunnel or Failed (a redirect is followed)
  std::unique_ptr<ControlTransport> transport;   // the session's socket, kept while the tunnel lives
  std::string version;                           // the TSP version that was spoken
  BrokerTarget broker;                           // who gave the tunnel
};

// One broker, the whole transport/version cycle; a redirection comes back as Redirect.
Connection connect_broker(const TspcConfig& cfg, const BrokerTarget& target, const ConnectOptions& options);

// The configured server, then (on a redirection) the listed brokers nearest first, saved in
// the broker_list file; a broker reached through a redirection may not redirect again (no loops).
Connection connect_with_redirects(const TspcConfig& cfg, const BrokerTarget& server, const ConnectOptions& options);

// Each broker in turn until one gives a tunnel, none of them followed when it redirects.
// Failed with BrokerRedirection (on behalf of `origin`) when the list holds none that could be used.
Connection connect_listed(const TspcConfig& cfg, const std::vector<ServerAddress>& brokers, const BrokerTarget& origin,
                          const ConnectOptions& options);

// One connection cycle of the client (tsp-protocol.md §6): with always_use_same_server=yes the
// broker in the last_server file first (a malformed file fails with LastServerFailed); then the
// configured server, with its redirections; and when that server cannot be reached, the
// brokers in the broker_list file. The configured server's failure is the one reported when
// all of them fail.
Connection connect_cycle(const TspcConfig& cfg, const ConnectOptions& options);

// Writes the broker that gave `c`'s tunnel to the last_server file (a failure to write is
// logged, not fatal); returns `c`.
Connection remember_server(const TspcConfig& cfg, Connection c, const LogFn& log);

}  // namespace tsp::tspc
