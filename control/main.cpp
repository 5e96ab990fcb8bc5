// tspbrokerd: the tunnel broker daemon.
//   tspbrokerd [--config FILE]                  run (the embedded defaults without --config)
//   tspbrokerd --check-config [--config FILE]   validate and exit: 0, or 1 with file:line: reason
// With a `dataplane` block, DPDK workers forward the tunnels and the TSP sockets bind to the
// broker's address on the dataplane's exception tap (started first, stopped last).
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "config/broker_config.hpp"
#include "control/store/store.hpp"
#include "control/tcp_server.hpp"
#include "control/tunnel_service.hpp"
#include "control/udp_server.hpp"
#include "dataplane/dataplane.hpp"
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

// The dataplane block, with what the tsp, tunnel server and limit statements say about tunnels.
tsp::dp::DataplaneConfig dataplane_config(const tsp::config::Config& cfg) {
  const tsp::config::DataplaneSection& d = *cfg.dataplane;
  tsp::dp::DataplaneConfig out;
  out.eal_args = d.eal_args;
  out.ipv4_port = d.ipv4_port;
  out.ipv6_port = d.ipv6_port;
  out.workers = d.workers;
  out.ipv4_address = d.ipv4_address;
  out.ipv4_prefix_len = d.ipv4_prefix_len;
  out.ipv4_gateway = d.ipv4_gateway;
  out.ipv6_address = d.ipv6_address;
  out.ipv6_prefix_len = d.ipv6_prefix_len;
  out.ipv6_gateway = d.ipv6_gateway;
  out.ipv4_tap = d.ipv4_tap;
  out.ipv6_tap = d.ipv6_tap;
  // Without a UDP transport there are no v6udpv4 tunnels: UDP to us is then all the kernel's.
  out.udp_port = cfg.tsp().udp_port.value_or(0);
  out.tunnel_mtu = static_cast<uint16_t>(cfg.tunnel_server().mtu);
  out.max_tunnels = cfg.max_tunnels;
  return out;
}

// TSP_HAVE_DATAPLANE comes with tsp_dataplane_dep (dataplane/meson.build): a tspbrokerd
// linked without the DPDK dataplane refuses a configuration that has one.
std::unique_ptr<tsp::dp::Dataplane> start_dataplane(const tsp::dp::DataplaneConfig& cfg, const tsp::TunnelTable& table) {
#ifdef TSP_HAVE_DATAPLANE
  return tsp::dp::Dataplane::start(cfg, table);
#else
  (void)cfg;
  (void)table;
  throw std::runtime_error("this tspbrokerd was built without the DPDK dataplane: remove the 'dataplane' block");
#endif
}

// The tap that carries the broker's address came up a moment ago: wait until the kernel lets
// a socket bind to it.
bool wait_until_bindable(tsp::Ipv4Addr address) {
  asio::io_context io;
  for (int attempt = 0; attempt < 50; ++attempt) {
    asio::ip::udp::socket probe(io, asio::ip::udp::v4());
    boost::system::error_code ec;
    probe.bind(asio::ip::udp::endpoint(asio::ip::address_v4(address.value), 0), ec);
    if (!ec) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// One line per worker, then the sums on one line of NAME=VALUE pairs (for scripts).
void log_dataplane_counters(const tsp::dp::DataplaneStats& stats) {
  tsp::dp::DataplaneStats::Worker sum;
  for (const auto& w : stats.workers) {
    sum.rx += w.rx;
    sum.tx += w.tx;
    sum.decap += w.decap;
    sum.encap += w.encap;
    sum.exception += w.exception;
    sum.keepalive_replies += w.keepalive_replies;
    sum.icmp_errors += w.icmp_errors;
    for (size_t i = 0; i < tsp::dp::kDropReasonCount; ++i) sum.drops[i] += w.drops[i];
    std::string drops;
    for (size_t i = 0; i < tsp::dp::kDropReasonCount; ++i) {
      if (w.drops[i] == 0) continue;
      drops += fmt::format(" {}={}", tsp::dp::drop_reason_name(static_cast<tsp::dp::DropReason>(i)), w.drops[i]);
    }
    spdlog::info("dataplane worker lcore {}: rx {} tx {} decap {} encap {} exception {} keepalive replies {} "
                 "icmp errors {}, drops:{}",
                 w.lcore, w.rx, w.tx, w.decap, w.encap, w.exception, w.keepalive_replies, w.icmp_errors,
                 drops.empty() ? " none" : drops);
  }
  std::string line = fmt::format("rx={} tx={} decap={} encap={} exception={} keepalive_replies={} icmp_errors={}",
                                 sum.rx, sum.tx, sum.decap, sum.encap, sum.exception, sum.keepalive_replies,
                                 sum.icmp_errors);
  for (size_t i = 0; i < tsp::dp::kDropReasonCount; ++i) {
    line += fmt::format(" drop.{}={}", tsp::dp::drop_reason_name(static_cast<tsp::dp::DropReason>(i)), sum.drops[i]);
  }
  spdlog::info("dataplane counters: {}", line);
}

int run(const tsp::config::Config& cfg) {
  auto store = tsp::store::Store::open_sqlite(cfg.store.sqlite_path);
  tsp::TunnelTable table(cfg.max_tunnels);
  tsp::TunnelService tunnels(cfg, *store, table);
  const size_t reloaded = tunnels.load_from_store(unix_now());
  spdlog::info("store {}: {} live tunnel(s) reloaded", cfg.store.sqlite_path, reloaded);

  tsp::SessionEnv env{cfg, *store, tunnels, unix_now};
  const auto& tspc = cfg.tsp();
  tsp::SessionLimiter limiter(tspc.max_sessions);

  // Before the TSP sockets: the dataplane's tap carries the address they bind to. Declared
  // after the table it reads, so it stops before the table goes.
  std::unique_ptr<tsp::dp::Dataplane> dataplane;
  if (cfg.dataplane) {
    dataplane = start_dataplane(dataplane_config(cfg), table);
    if (!wait_until_bindable(tspc.address)) {
      spdlog::critical("the TSP address {} cannot be bound on the dataplane's tap {}", tspc.address.to_string(),
                       cfg.dataplane->ipv4_tap);
      return 1;
    }
  }

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
  if (dataplane) {
    dataplane->stop();
    log_dataplane_counters(dataplane->stats());
  }
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
  } catch (const std::runtime_error& e) {
    spdlog::critical("dataplane: {}", e.what());  // what Dataplane::start throws
  }
  return 1;
}
