// Getting a tunnel offer from a broker: the transport and version cycle of version_fallback
// around negotiate(), and redirections followed to the nearest listed broker.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>

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

// The configured server, then (on a redirection) the listed brokers nearest first; a broker
// reached through a redirection may not redirect again (no loops).
Connection connect_with_redirects(const TspcConfig& cfg, const BrokerTarget& server, const ConnectOptions& options);

}  // namespace tsp::tspc
