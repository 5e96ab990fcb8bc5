// tspbrokerd: the tunnel broker daemon.
//   tspbrokerd [--config FILE]                  run (the embedded defaults without --config)
//   tspbrokerd --check-config [--config FILE]   validate and exit: 0, or 1 with file:line: reason
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>

#include "config/broker_config.hpp"
#include "control/store/store.hpp"
#include "control/tcp_server.hpp"
#include "control/tunnel_service.hpp"
#include "control/udp_server.hpp"
#include "shared/tunnel_table.hpp"

namespace {

namespace asio = boost::asio;

int64_t unix_now() { return static_cast<int64_t>(std::time(nullptr)); }

// Many concurrent TCP sessions need many descriptors: take what the hard limit allows.
void raise_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

void setup_logging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("tspbrokerd");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_level(spdlog::level::from_str(level));
}

// Expires idle tunnels once a second.
class ExpiryTimer {
 public:
  ExpiryTimer(asio::io_context& io, tsp::TunnelService& tunnels) : timer_(io), tunnels_(tunnels) {}
  void start() {
    timer_.expires_after(std::chrono::seconds(1));
    timer_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      tunnels_.expire_idle(unix_now());
      start();
    });
  }
  void stop() { timer_.cancel(); }

 private:
  asio::steady_timer timer_;
  tsp::TunnelService& tunnels_;
};

int run(const tsp::config::Config& cfg) {
  auto store = tsp::store::Store::open_sqlite(cfg.store.sqlite_path);
  tsp::TunnelTable table(cfg.max_tunnels);
  tsp::TunnelService tunnels(cfg, *store, table);
  const size_t reloaded = tunnels.load_from_store(unix_now());
  spdlog::info("store {}: {} live tunnel(s) reloaded", cfg.store.sqlite_path, reloaded);

  tsp::SessionEnv env{cfg, *store, tunnels, unix_now};
  const auto& tspc = cfg.tsp();
  tsp::SessionLimiter limiter(tspc.max_sessions);

  // Declared after everything its handlers use, so its destructor (which destroys pending
  // handlers and the sessions they hold) runs first.
  asio::io_context io;
  const auto bind_addr = asio::ip::address_v4(tspc.address.value);
  std::optional<tsp::UdpTspServer> udp;
  std::optional<tsp::TcpTspServer> tcp;
  if (tspc.udp_port) {
    udp.emplace(io, env, limiter, asio::ip::udp::endpoint(bind_addr, *tspc.udp_port));
    udp->start();
    spdlog::info("TSP over UDP on {}:{}", tspc.address.to_string(), *tspc.udp_port);
  }
  if (tspc.tcp_port) {
    tcp.emplace(io, env, limiter, asio::ip::tcp::endpoint(bind_addr, *tspc.tcp_port));
    tcp->start();
    spdlog::info("TSP over TCP on {}:{}", tspc.address.to_string(), *tspc.tcp_port);
  }
  ExpiryTimer expiry(io, tunnels);
  expiry.start();

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (ec) return;
    spdlog::info("signal {}: shutting down", sig);
    if (udp) udp->stop();
    if (tcp) tcp->stop();
    expiry.stop();
    io.stop();
  });
  spdlog::info("tspbrokerd ready: broker {}, tunnel server {} ({}), {} tunnel(s) live", cfg.broker.name,
               cfg.tunnel_server().name, cfg.tunnel_server().address.to_string(), tunnels.live_tunnels());
  io.run();
  if (udp) udp->stop();
  if (tcp) tcp->stop();
  spdlog::info("tspbrokerd stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tspbrokerd: IPv6 tunnel broker (TSP, RFC 5572)"};
  std::string config_path;
  bool check_only = false;
  app.add_option("-c,--config", config_path, "configuration file (default: the embedded defaults)");
  app.add_flag("--check-config", check_only, "validate the configuration and exit");
  app.set_version_flag("--version", "tspbrokerd 0.1.0");
  CLI11_PARSE(app, argc, argv);

  std::optional<tsp::config::Config> cfg;
  try {
    cfg = config_path.empty() ? tsp::config::parse_config(tsp::config::embedded_default_config(), "<embedded>")
                              : tsp::config::load_config_file(config_path);
  } catch (const tsp::config::ConfigError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  if (check_only) {
    std::printf("%s: configuration OK\n", config_path.empty() ? "<embedded>" : config_path.c_str());
    return 0;
  }
  raise_fd_limit();
  setup_logging(cfg->log_level);
  try {
    return run(*cfg);
  } catch (const tsp::store::StoreError& e) {
    spdlog::critical("store: {}", e.what());
  } catch (const boost::system::system_error& e) {
    spdlog::critical("cannot start: {}", e.what());
  }
  return 1;
}
