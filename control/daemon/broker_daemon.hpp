// The tspbrokerd daemon assembled: configuration, store, tunnel table, tunnel service,
// dataplane, the TSP servers, the expiry timer and the signals, on one I/O thread.
//
// Lifecycle: run() starts everything (live tunnels come back from the store) and serves until
// a stop is asked (SIGTERM, SIGINT or request_stop()). It then drains: no new TSP session,
// sessions in progress get up to kDrainLimit to finish, the store is flushed, the dataplane
// stops and the counters are logged; run() returns 0. A second SIGTERM/SIGINT exits at once.
// SIGHUP (and reload(), for `tspctl reload`) re-reads the configuration file.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "config/broker_config.hpp"
#include "control/admin/admin_server.hpp"
#include "control/daemon/expiry_timer.hpp"
#include "control/daemon/history_pruner.hpp"
#include "control/daemon/lockout_saver.hpp"
#include "control/dns/delegation_writer.hpp"
#include "control/metrics/control_counters.hpp"
#include "control/metrics/http_server.hpp"
#include "control/session_limiter.hpp"
#include "control/store/store.hpp"
#include "control/tcp_server.hpp"
#include "control/tsp_session.hpp"
#include "control/tunnel_service.hpp"
#include "control/udp_server.hpp"
#include "dataplane/dataplane.hpp"
#include "shared/tunnel_table.hpp"

namespace tsp::daemon {

// How long a stop waits for unfinished TSP sessions.
inline constexpr std::chrono::milliseconds kDrainLimit{2000};

class BrokerDaemon {
 public:
  // `config_path` is the file reload() re-reads; empty: the embedded defaults.
  BrokerDaemon(config::Config cfg, std::string config_path);
  ~BrokerDaemon();
  BrokerDaemon(const BrokerDaemon&) = delete;
  BrokerDaemon& operator=(const BrokerDaemon&) = delete;

  // Starts, serves until stopped, tears down. Returns the process exit code. Throws
  // store::StoreError, boost::system::system_error or std::runtime_error when it cannot start.
  int run();

  // Re-reads the configuration file (on the I/O thread). False with the reason in `error`
  // ("file:line: ...") when the new file is broken or asks for what needs a restart: the
  // running configuration then stays.
  bool reload(std::string& error);

  // Asks run() to drain and return (thread-safe).
  void request_stop();
  bool draining() const { return draining_; }

  // For the admin socket and the metrics endpoint (valid while run() runs). reload() runs on
  // the I/O thread (SIGHUP, the admin socket); config() may be read from any thread.
  std::shared_ptr<const config::Config> config() const;
  boost::asio::io_context& io() { return io_; }
  store::Store& store() { return *store_; }
  TunnelService& tunnels() { return *tunnels_; }
  const TunnelTable& table() const { return *table_; }
  const dp::Dataplane* dataplane() const { return dataplane_.get(); }
  const metrics::ControlCounters& control_counters() const { return control_counters_; }

 private:
  bool reload_configuration(std::string& error);  // reload() without telling the service manager
  bool start();
  void start_metrics(const config::MetricsConfig& m);
  void start_admin();
  // Starts, changes or stops the reverse delegations' writer as the configuration says.
  void apply_dns_delegation(const std::optional<config::DnsDelegationConfig>& c);
  std::optional<dns::DelegationStats> dns_delegation_stats() const;
  void serve_signals();
  void on_signal(int sig);
  void begin_drain(const char* why);
  void wait_for_sessions(std::chrono::steady_clock::time_point deadline);
  void stop_servers();
  void finish();

  std::string config_path_;
  mutable std::mutex cfg_mu_;  // guards the cfg_ pointer (swapped by reload())
  std::shared_ptr<const config::Config> cfg_;
  // First: the sessions count into it until the very end.
  metrics::ControlCounters control_counters_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::TunnelHistory> history_;  // after the store; TunnelService holds it
  std::unique_ptr<TunnelTable> table_;
  // Guards the pointer below: TunnelService pokes the writer under its own mutex, from any
  // thread, while a reload may replace it.
  mutable std::mutex dns_delegation_mu_;
  std::unique_ptr<TunnelService> tunnels_;
  // After the service whose tunnels its thread reads: stopped before the service goes.
  std::unique_ptr<dns::DelegationWriter> dns_delegation_;  // with `dns delegation file`
  std::unique_ptr<SessionEnv> env_;
  std::unique_ptr<SessionLimiter> limiter_;
  std::unique_ptr<AuthLockout> lockout_;
  std::unique_ptr<LockoutSaver> lockout_saver_;  // saves lockout_ while running
  // Declared after the table it reads, so it stops before the table goes.
  std::unique_ptr<dp::Dataplane> dataplane_;
  // Declared after everything its handlers use, so its destructor (which destroys pending
  // handlers and the sessions they hold) runs before theirs.
  boost::asio::io_context io_;
  std::optional<UdpTspServer> udp_;
  std::optional<TcpTspServer> tcp_;
  // After the servers: destroyed before them, so no check's verdict is posted to a loop
  // that is gone (its unstarted checks are dropped, its threads joined).
  std::unique_ptr<PasswordChecker> password_checker_;
  std::optional<metrics::MetricsHttpServer> metrics_http_;  // with `metrics listen`
  std::unique_ptr<admin::AdminCommands> admin_commands_;    // what tspctl asks, run
  std::optional<admin::AdminServer> admin_;                 // tspctl's Unix socket
  std::optional<ExpiryTimer> expiry_;
  std::optional<HistoryPruner> history_pruner_;
  std::optional<boost::asio::signal_set> signals_;
  std::optional<boost::asio::steady_timer> drain_timer_;
  bool draining_ = false;
};

}  // namespace tsp::daemon
