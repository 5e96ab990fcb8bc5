// Gathers the broker's figures into Prometheus families at scrape time: the control plane's
// counters, the lockout, the password checker, the store's WAL checkpoints, the reverse DNS
// delegations' zone file, the tunnel
// service (tunnels, pools, expiries) and the dataplane's per-worker and per-tunnel counters.
// Nothing is cached: every scrape reads the sources afresh.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "control/auth_lockout.hpp"
#include "control/dns/delegation_writer.hpp"
#include "control/metrics/control_counters.hpp"
#include "control/metrics/metric_family.hpp"
#include "control/password_checker.hpp"
#include "control/session_limiter.hpp"
#include "control/store/store.hpp"
#include "control/tunnel_service.hpp"
#include "dataplane/dataplane.hpp"

namespace tsp::metrics {

// What the collector reads; each may be absent (a broker without a dataplane, a test). The
// pointees must outlive the collector.
struct CollectorSources {
  const ControlCounters* control = nullptr;
  const TunnelService* tunnels = nullptr;
  const dp::Dataplane* dataplane = nullptr;
  bool per_tunnel = false;  // `metrics per-tunnel`: one series per live tunnel
  const AuthLockout* lockout = nullptr;
  int64_t now = 0;  // unix seconds of the scrape (which locks are still running)
  const PasswordChecker* password_checker = nullptr;
  std::optional<store::CheckpointStats> checkpoints;  // the store's background WAL checkpoints
  std::optional<dns::DelegationStats> delegations;    // with `dns delegation file`
  std::optional<SessionLimiter::Figures> sessions;    // the TSP servers' unfinished sessions
};

class MetricsCollector {
 public:
  explicit MetricsCollector(CollectorSources sources) : sources_(sources) {}

  std::vector<MetricFamily> collect() const;
  // collect(), in the Prometheus text format.
  std::string render() const;

 private:
  void add_control(std::vector<MetricFamily>& out) const;
  void add_transport(std::vector<MetricFamily>& out, const TransportCounters& t) const;
  void add_sessions(std::vector<MetricFamily>& out) const;
  void add_lockout(std::vector<MetricFamily>& out) const;
  void add_password_checker(std::vector<MetricFamily>& out) const;
  void add_checkpoints(std::vector<MetricFamily>& out) const;
  void add_delegations(std::vector<MetricFamily>& out) const;
  void add_tunnels(std::vector<MetricFamily>& out) const;
  void add_pools(std::vector<MetricFamily>& out) const;
  void add_dataplane(std::vector<MetricFamily>& out) const;
  void add_per_tunnel(std::vector<MetricFamily>& out) const;

  CollectorSources sources_;
};

}  // namespace tsp::metrics
