#include "control/daemon/broker_daemon.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/post.hpp>
#include <csignal>
#include <utility>
#include <vector>

#include "control/auth/crypto.hpp"
#include "control/daemon/config_reload.hpp"
#include "control/daemon/daemon_logging.hpp"
#include "control/daemon/dataplane_setup.hpp"
#include "control/daemon/service_manager.hpp"
#include "control/metrics/metrics_collector.hpp"
#include "control/password_checker.hpp"

namespace tsp::daemon {

namespace asio = boost::asio;

BrokerDaemon::BrokerDaemon(config::Config cfg, std::string config_path)
    : config_path_(std::move(config_path)), cfg_(std::make_shared<const config::Config>(std::move(cfg))) {}

BrokerDaemon::~BrokerDaemon() = default;

std::shared_ptr<const config::Config> BrokerDaemon::config() const {
  std::lock_guard lock(cfg_mu_);
  return cfg_;
}

namespace {
// A secret of the broker that must outlive a restart, made on first use.
std::vector<uint8_t> broker_secret(store::Store& store, const std::string& name) {
  if (auto kept = store.find_secret(name)) return std::move(*kept);
  return store.save_secret(name, auth::crypto::random_bytes(32));
}
}  // namespace

bool BrokerDaemon::start() {
  const config::Config& cfg = *cfg_;
  // Group commit: one SQLite commit per 10 ms window, not one per tunnel; the WAL's
  // checkpoints (and their syncs) off the store's lock (store.hpp).
  store_ = store::Store::open_sqlite(cfg.store.sqlite_path, {store::kDaemonGroupCommitWindow, true});
  table_ = std::make_unique<TunnelTable>(cfg.max_tunnels);
  // Every tunnel's life, in a file beside the store, written off the session path.
  const std::string history_path = store::TunnelHistory::path_beside(cfg.store.sqlite_path);
  history_ = std::make_unique<store::TunnelHistory>(history_path);
  spdlog::info("tunnel history in {} (kept {} day(s) after each tunnel ends{})", history_path,
               cfg.history_keep_days, cfg.history_keep_days == 0 ? ": 0 = forever" : "");
  tunnels_ = std::make_unique<TunnelService>(cfg_, *store_, *table_);
  tunnels_->set_history(history_.get());
  tunnels_->on_delegations_changed([this](dns::DelegationChange change) {
    std::lock_guard lock(dns_delegation_mu_);
    if (dns_delegation_) dns_delegation_->changed(std::move(change));
  });
  const size_t reloaded = tunnels_->load_from_store(unix_now());
  spdlog::info("store {}: {} live tunnel(s) reloaded", cfg.store.sqlite_path, reloaded);
  apply_dns_delegation(cfg.dns_delegation);  // its first write holds the tunnels just reloaded

  env_ = std::make_unique<SessionEnv>(SessionEnv{cfg, *store_, *tunnels_, unix_now});
  env_->counters = &control_counters_;
  env_->scram_fake_salt_secret = broker_secret(*store_, "scram-fake-salt");
  const auto& tspc = cfg.tsp();
  limiter_ = std::make_unique<SessionLimiter>(tspc.max_sessions, tspc.max_sessions_per_address);
  lockout_ = std::make_unique<AuthLockout>(lockout_policy(tspc));
  env_->lockout = lockout_.get();
  // What the last run saved when it stopped: its locks, and the addresses that proved users'
  // passwords (their logins go first: password_checker.hpp).
  if (const LockoutCounts restored = lockout_->restore(store_->load_lockouts(), unix_now());
      restored.addresses + restored.users > 0) {
    spdlog::info("lockout: {} address(es) and {} user name(s) taken back from the store", restored.addresses,
                 restored.users);
  }
  lockout_saver_ = std::make_unique<LockoutSaver>(*lockout_, *store_, unix_now, tspc.lockout_save_interval);
  const unsigned checker_threads = PasswordChecker::default_threads();
  password_checker_ =
      std::make_unique<PasswordChecker>(checker_threads, checker_threads * PasswordChecker::kQueuedPerThread);
  env_->password_checker = password_checker_.get();
  spdlog::info("PLAIN password checks on {} thread(s) of their own", checker_threads);

  // Before the TSP sockets: the dataplane's tap carries the address they bind to.
  if (cfg.dataplane) {
    dataplane_ = start_dataplane(dataplane_config(cfg), *table_);
    tunnels_->on_slot_reused([dp = dataplane_.get()](uint32_t id) { dp->restart_tunnel_stats(id); });
    if (!wait_until_bindable(tspc.address)) {
      spdlog::critical("the TSP address {} cannot be bound on the dataplane's tap {}", tspc.address.to_string(),
                       cfg.dataplane->ipv4_tap);
      return false;
    }
  }

  const auto bind_addr = asio::ip::address_v4(tspc.address.value);
  if (tspc.udp_port) {
    udp_.emplace(io_, *env_, *limiter_, asio::ip::udp::endpoint(bind_addr, *tspc.udp_port));
    udp_->start();
    spdlog::info("TSP over UDP on {}:{}", tspc.address.to_string(), *tspc.udp_port);
  }
  if (tspc.tcp_port) {
    tcp_.emplace(io_, *env_, *limiter_, asio::ip::tcp::endpoint(bind_addr, *tspc.tcp_port));
    tcp_->start();
    spdlog::info("TSP over TCP on {}:{}", tspc.address.to_string(), *tspc.tcp_port);
  }
  if (cfg.metrics) start_metrics(*cfg.metrics);
  start_admin();
  expiry_.emplace(io_, *tunnels_);
  expiry_->start();
  history_pruner_.emplace(io_, *history_, [this] { return config()->history_keep_days; });
  history_pruner_->start();
  return true;
}

namespace {
dns::DelegationOptions delegation_options(const config::DnsDelegationConfig& c) {
  return {c.file, c.ttl, c.reload_command};
}
}  // namespace

void BrokerDaemon::apply_dns_delegation(const std::optional<config::DnsDelegationConfig>& c) {
  std::unique_ptr<dns::DelegationWriter> stopped;
  {
    std::lock_guard lock(dns_delegation_mu_);
    if (c && dns_delegation_) return dns_delegation_->set_options(delegation_options(*c));
    stopped = std::move(dns_delegation_);
  }
  if (stopped) {
    // Joined outside the lock: its thread may be waiting for the service's mutex, whose
    // holder may be waiting for this lock to poke it.
    stopped.reset();
    spdlog::info("dns delegation off: the zone file is no longer kept up to date (nor removed)");
  }
  if (!c) return;
  auto writer = std::make_unique<dns::DelegationWriter>([this] { return tunnels_->delegations(); },
                                                        delegation_options(*c));
  spdlog::info("dns delegation: routed prefixes delegated to their clients' name servers in {}{}", c->file,
               c->reload_command.empty() ? "" : ", then '" + c->reload_command.front() + "' runs");
  std::lock_guard lock(dns_delegation_mu_);
  dns_delegation_ = std::move(writer);
}

std::optional<dns::DelegationStats> BrokerDaemon::dns_delegation_stats() const {
  std::lock_guard lock(dns_delegation_mu_);
  if (!dns_delegation_) return std::nullopt;
  return dns_delegation_->stats();
}

// After the dataplane: the metrics address may be one its taps carry.
void BrokerDaemon::start_metrics(const config::MetricsConfig& m) {
  auto render = [this] {  // on the metrics server's renderer thread
    const auto cfg = config();
    const bool per_tunnel = cfg->metrics && cfg->metrics->per_tunnel;  // the running configuration's
    return metrics::MetricsCollector({&control_counters_, tunnels_.get(), dataplane_.get(), per_tunnel, lockout_.get(),
                                      unix_now(), password_checker_.get(), store_->checkpoint_stats(),
                                      dns_delegation_stats(), limiter_->figures()})
        .render();
  };
  metrics_http_.emplace(io_, asio::ip::tcp::endpoint(asio::ip::address_v4(m.address.value), m.port), render);
  metrics_http_->start();
  spdlog::info("metrics on http://{}:{}/metrics{}", m.address.to_string(), m.port,
               m.per_tunnel ? " (with per-tunnel series)" : "");
}

// tspctl's door: commands run on this I/O thread against the running configuration.
void BrokerDaemon::start_admin() {
  admin::AdminContext ctx;
  ctx.config = [this] { return cfg_; };
  ctx.store = store_.get();
  ctx.history = history_.get();
  ctx.tunnels = tunnels_.get();
  ctx.dataplane = dataplane_.get();
  ctx.reload = [this](std::string& error) { return reload(error); };
  ctx.now = unix_now;
  ctx.lockout = lockout_.get();
  ctx.sessions = limiter_.get();
  ctx.dns_delegation = [this] { return dns_delegation_stats(); };
  admin_commands_ = std::make_unique<admin::AdminCommands>(std::move(ctx));
  const auto& a = cfg_->admin;
  admin_.emplace(io_, *admin_commands_, a.socket_path, admin::AccessPolicy::for_group(a.group));
  admin_->start();
  spdlog::info("admin socket {} ({})", a.socket_path, a.group ? "root and group " + *a.group : "root only");
}

void BrokerDaemon::serve_signals() {
  signals_->async_wait([this](boost::system::error_code ec, int sig) {
    if (ec) return;
    on_signal(sig);
    serve_signals();
  });
}

void BrokerDaemon::on_signal(int sig) {
  if (sig == SIGHUP) {
    spdlog::info("SIGHUP: reloading the configuration");
    std::string error;
    reload(error);  // logs what happened
    return;
  }
  if (draining_) {
    // The operator insists: no more waiting (what the store's window holds is lost).
    spdlog::warn("signal {} while draining: exiting now", sig);
    spdlog::default_logger()->flush();
    _exit(1);
  }
  begin_drain(sig == SIGTERM ? "SIGTERM" : "SIGINT");
}

void BrokerDaemon::request_stop() {
  asio::post(io_, [this] {
    if (!draining_) begin_drain("stop requested");
  });
}

void BrokerDaemon::begin_drain(const char* why) {
  draining_ = true;
  const size_t unfinished = limiter_ ? limiter_->active() : 0;
  spdlog::info("{}: shutting down; no new TSP sessions, {} unfinished session(s) get {} ms", why, unfinished,
               kDrainLimit.count());
  notify_stopping(fmt::format("shutting down ({}), {} unfinished session(s)", why, unfinished));
  if (udp_) udp_->stop_accepting();
  if (tcp_) tcp_->stop();  // closes the listening socket; connections in progress go on
  if (expiry_) expiry_->stop();
  if (history_pruner_) history_pruner_->stop();
  drain_timer_.emplace(io_);
  wait_for_sessions(std::chrono::steady_clock::now() + kDrainLimit);
}

// Polls the session count: sessions finish (or fail) through the servers' own handlers.
void BrokerDaemon::wait_for_sessions(std::chrono::steady_clock::time_point deadline) {
  const size_t unfinished = limiter_ ? limiter_->active() : 0;
  if (unfinished == 0 || std::chrono::steady_clock::now() >= deadline) {
    if (unfinished > 0) spdlog::warn("{} TSP session(s) still unfinished: closed", unfinished);
    stop_servers();
    io_.stop();
    return;
  }
  drain_timer_->expires_after(std::chrono::milliseconds(50));
  drain_timer_->async_wait([this, deadline](boost::system::error_code ec) {
    if (!ec) wait_for_sessions(deadline);
  });
}

void BrokerDaemon::stop_servers() {
  if (admin_) admin_->stop();
  if (metrics_http_) metrics_http_->stop();
  if (udp_) udp_->stop();
  if (tcp_) tcp_->stop();
  if (expiry_) expiry_->stop();
  if (history_pruner_) history_pruner_->stop();
  if (drain_timer_) drain_timer_->cancel();
}

bool BrokerDaemon::reload(std::string& error) {
  notify_reloading();
  const bool ok = reload_configuration(error);
  notify_ready(ok ? fmt::format("configuration reloaded, {} tunnel(s) live", tunnels_->live_tunnels())
                  : "reload refused, the running configuration stays: " + error);
  return ok;
}

bool BrokerDaemon::reload_configuration(std::string& error) {
  const std::string name = config_path_.empty() ? "<embedded>" : config_path_;
  std::optional<config::Config> next;
  try {
    next = config_path_.empty() ? config::parse_config(config::embedded_default_config(), name)
                                : config::load_config_file(config_path_);
  } catch (const config::ConfigError& e) {
    error = e.what();
    spdlog::error("reload refused, the running configuration stays: {}", error);
    return false;
  }
  const std::string text = config_path_.empty() ? std::string(config::embedded_default_config())
                                                : read_text_file(config_path_);
  if (auto why = restart_needed(*cfg_, *next, text)) {
    error = *why;
    spdlog::error("reload refused, the running configuration stays: {}", error);
    return false;
  }
  const auto changes = reload_changes(*cfg_, *next);
  auto shared = std::make_shared<const config::Config>(std::move(*next));
  if (!tunnels_->reconfigure(shared, unix_now(), error)) {
    spdlog::error("reload refused, the running configuration stays: {}", error);
    return false;
  }
  limiter_->set_limits(shared->tsp().max_sessions, shared->tsp().max_sessions_per_address);
  lockout_->set_policy(lockout_policy(shared->tsp()));
  lockout_saver_->set_interval(shared->tsp().lockout_save_interval);
  apply_dns_delegation(shared->dns_delegation);
  apply_log_settings(shared->log_target, shared->log_level);
  if (dataplane_ && shared->dataplane) dataplane_->set_exception_limits(shared->dataplane->exception_limits);
  {
    std::lock_guard lock(cfg_mu_);
    cfg_ = shared;
  }
  for (const auto& c : changes) spdlog::info("reload: {}", c);
  spdlog::info("configuration {} reloaded ({} change(s)); live tunnels untouched ({}); users live in the store and "
               "need no reload",
               name, changes.size(), tunnels_->live_tunnels());
  error.clear();
  return true;
}

void BrokerDaemon::finish() {
  lockout_saver_.reset();  // its thread must not write after the last save below
  {
    // Its thread stops (after a command under way); the file stays: the tunnels stay live.
    std::unique_ptr<dns::DelegationWriter> writer;
    {
      std::lock_guard lock(dns_delegation_mu_);
      writer = std::move(dns_delegation_);
    }
  }
  try {
    if (store_ && lockout_) store_->save_lockouts(lockout_->snapshot(unix_now()));
    if (store_) store_->flush();
  } catch (const store::StoreError& e) {
    spdlog::error("store: the last writes were lost at shutdown: {}", e.what());
  }
  if (dataplane_) {
    dataplane_->stop();
    log_dataplane_counters(dataplane_->stats());
  }
  if (tunnels_) {
    const auto c = tunnels_->counters();
    spdlog::info("tunnel counters: offers={} commits={} replaced={} expired={} refused={} live={}", c.offers, c.commits,
                 c.replaced, c.expired, c.refused, tunnels_->live_tunnels());
  }
  spdlog::info("tspbrokerd stopped");
}

int BrokerDaemon::run() {
  // Before anything that can fail: a SIGTERM during start-up then still drains.
  signals_.emplace(io_, SIGINT, SIGTERM, SIGHUP);
  if (!start()) {
    finish();
    return 1;
  }
  serve_signals();
  const config::Config& cfg = *cfg_;
  spdlog::info("tspbrokerd ready: broker {}, tunnel server {} ({}), {} tunnel(s) live", cfg.broker.name,
               cfg.tunnel_server().name, cfg.tunnel_server().address.to_string(), tunnels_->live_tunnels());
  notify_ready(fmt::format("serving, {} tunnel(s) live", tunnels_->live_tunnels()));
  io_.run();
  stop_servers();
  finish();
  return 0;
}

}  // namespace tsp::daemon
