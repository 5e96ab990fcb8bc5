#include "tools/tspc/connection.hpp"

#include <optional>

#include "tools/tspc/broker_files.hpp"
#include "tools/tspc/redirect.hpp"
#include "tools/tspc/version_fallback.hpp"

namespace tsp::tspc {
namespace {

std::string cnonce_now() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now).count());
}

void log_to(const ConnectOptions& o, int level, const std::string& text) {
  if (o.log) o.log(level, text);
}

bool stopped(const ConnectOptions& o) { return o.stop && o.stop->load(); }

const std::atomic<bool>& stop_flag(const ConnectOptions& o) {
  static const std::atomic<bool> never{false};
  return o.stop ? *o.stop : never;
}

Connection failed(ExitCode code, std::string message, const BrokerTarget& target) {
  Connection c;
  c.outcome.kind = NegotiationOutcome::Kind::Failed;
  c.outcome.code = code;
  c.outcome.message = std::move(message);
  c.broker = target;
  return c;
}

}  // namespace

Connection connect_broker(const TspcConfig& cfg, const BrokerTarget& target, const ConnectOptions& options) {
  const VersionFallback plan(cfg.tunnel_mode, options.boot, cfg.tsp_version);
  std::optional<Attempt> attempt = plan.first();
  Connection last = failed(ExitCode::SocketConnectFailed, "no attempt made", target);
  while (attempt) {
    if (stopped(options)) return failed(ExitCode::Success, "stopped by a signal", target);
    const char* transport_name = attempt->udp ? "UDP" : "TCP";
    log_to(options, 2, "connecting to " + target.text + " (" + target.address.to_string() + ":" +
                           std::to_string(target.port) + ") over " + transport_name + ", TSP version " +
                           std::string(attempt->version()));
    TransportSettings settings;
    settings.server = target.address;
    settings.port = target.port;
    settings.bind = cfg.if_source;
    settings.log = options.log;
    settings.tcp_read_timeout = options.tcp_read_timeout;

    Connection c;
    c.broker = target;
    c.version = std::string(attempt->version());
    try {
      c.transport = attempt->udp ? open_udp_transport(settings) : open_tcp_transport(settings);
      NegotiationContext context{attempt->version(), target.text, cnonce_now(), options.log};
      c.outcome = negotiate(*c.transport, cfg, context);
    } catch (const TransportError& e) {
      c.outcome.kind = NegotiationOutcome::Kind::Failed;
      c.outcome.code = ExitCode::SocketConnectFailed;
      c.outcome.message = e.what();
    }
    if (c.outcome.kind != NegotiationOutcome::Kind::Failed) return c;

    log_to(options, 2, std::string(transport_name) + " attempt failed: " + c.outcome.message);
    if (c.outcome.code == ExitCode::InvalidTspVersion) {
      const std::optional<Attempt> next = plan.after_version_refused(*attempt);
      if (next && attempt->udp &&
          !sleep_unless_stopped(options.version_fallback_delay, stop_flag(options)))
        return failed(ExitCode::Success, "stopped by a signal", target);
      attempt = next;
    } else if (c.outcome.code == ExitCode::SocketConnectFailed) {
      attempt = plan.after_no_answer(*attempt);
    } else {
      return c;
    }
    last = std::move(c);
  }
  return last;
}

Connection connect_listed(const TspcConfig& cfg, const std::vector<ServerAddress>& brokers, const BrokerTarget& origin,
                          const ConnectOptions& options) {
  Connection last = failed(ExitCode::BrokerRedirection, "no listed broker could be used", origin);
  for (const ServerAddress& broker : brokers) {
    if (stopped(options)) break;
    auto resolved = resolve_broker(broker.host, broker.port, broker.text);
    if (const auto* reason = std::get_if<std::string>(&resolved)) {
      log_to(options, 2, "listed broker: " + *reason);
      continue;
    }
    Connection c = connect_broker(cfg, std::get<BrokerTarget>(resolved), options);
    if (c.outcome.kind == NegotiationOutcome::Kind::Tunnel) return c;
    if (c.outcome.kind == NegotiationOutcome::Kind::Redirect) {
      c = failed(ExitCode::BrokerRedirection, "broker " + broker.text + " redirected again; not followed", c.broker);
    }
    log_to(options, 1, "broker " + broker.text + ": " + c.outcome.message);
    last = std::move(c);
  }
  return last;
}

Connection connect_with_redirects(const TspcConfig& cfg, const BrokerTarget& server, const ConnectOptions& options) {
  Connection first = connect_broker(cfg, server, options);
  if (first.outcome.kind != NegotiationOutcome::Kind::Redirect) return first;

  log_to(options, 1, "redirected by " + server.text + " to " + std::to_string(first.outcome.brokers.size()) + " broker(s)");
  const std::vector<std::string> ranked =
      first.outcome.brokers.size() > 1 ? rank_brokers(first.outcome.brokers, options.log) : first.outcome.brokers;
  if (const std::string why = save_broker_list(cfg.broker_list, ranked); why.empty()) {
    log_to(options, 1, "broker list saved to " + cfg.broker_list + " (" + std::to_string(ranked.size()) + " broker(s))");
  } else {
    log_to(options, 1, "broker list not saved: " + why);
  }
  // Listed brokers are reached on the default port (§6); resolve_broker skips an IPv6 one
  // (this client has no IPv6 transport).
  std::vector<ServerAddress> listed;
  for (const std::string& address : ranked) listed.push_back(ServerAddress{address, kTspPort, address, false});
  return connect_listed(cfg, listed, server, options);
}

Connection connect_cycle(const TspcConfig& cfg, const ConnectOptions& options) {
  const auto to_target = [](const ServerAddress& a) { return resolve_broker(a.host, a.port, a.text); };
  const BrokerTarget configured{Ipv4Addr{}, cfg.server.port, cfg.server.text};

  if (cfg.always_use_same_server) {
    const BrokerFile last = read_last_server(cfg.last_server);
    if (last.state == BrokerFile::State::Invalid) {
      return failed(ExitCode::LastServerFailed, "last_server: " + last.problem, configured);
    }
    if (last.state == BrokerFile::State::Read) {
      const ServerAddress& server = last.brokers.front();
      log_to(options, 1, "trying the last server " + server.text + " first (always_use_same_server)");
      auto resolved = to_target(server);
      if (const auto* reason = std::get_if<std::string>(&resolved)) {
        log_to(options, 1, "last server: " + *reason);
      } else {
        Connection c = connect_with_redirects(cfg, std::get<BrokerTarget>(resolved), options);
        if (c.outcome.kind == NegotiationOutcome::Kind::Tunnel || stopped(options)) return c;
        log_to(options, 1, "last server " + server.text + ": " + c.outcome.message);
      }
    }
  }

  auto resolved = to_target(cfg.server);
  Connection c;
  if (const auto* reason = std::get_if<std::string>(&resolved)) {
    c = failed(cfg.server.is_ipv6 ? ExitCode::InvalidServerAddress : ExitCode::ResolveFailed, "server: " + *reason,
               configured);
  } else {
    c = connect_with_redirects(cfg, std::get<BrokerTarget>(resolved), options);
  }
  const bool unreachable = c.outcome.kind == NegotiationOutcome::Kind::Failed &&
                           (c.outcome.code == ExitCode::SocketConnectFailed || c.outcome.code == ExitCode::ResolveFailed);
  if (!unreachable || stopped(options)) return c;

  const BrokerFile list = read_broker_list(cfg.broker_list);
  if (list.state == BrokerFile::State::Invalid) log_to(options, 1, "broker_list not used: " + list.problem);
  if (list.state != BrokerFile::State::Read) return c;
  log_to(options, 1, "server " + cfg.server.text + " unreachable; trying the " + std::to_string(list.brokers.size()) +
                         " broker(s) in " + cfg.broker_list);
  Connection from_list = connect_listed(cfg, list.brokers, c.broker, options);
  // Nothing in the list worked: the configured server's failure is the one to report.
  return from_list.outcome.kind == NegotiationOutcome::Kind::Tunnel ? std::move(from_list) : std::move(c);
}

Connection remember_server(const TspcConfig& cfg, Connection c, const LogFn& log) {
  if (c.outcome.kind != NegotiationOutcome::Kind::Tunnel) return c;
  const std::string why = save_last_server(cfg.last_server, c.broker.text);
  if (log) log(1, why.empty() ? "last server saved to " + cfg.last_server + ": " + c.broker.text
                              : "last server not saved: " + why);
  return c;
}

}  // namespace tsp::tspc
