#include "tools/tspc/connection.hpp"

#include <optional>

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

Connection connect_with_redirects(const TspcConfig& cfg, const BrokerTarget& server, const ConnectOptions& options) {
  Connection first = connect_broker(cfg, server, options);
  if (first.outcome.kind != NegotiationOutcome::Kind::Redirect) return first;

  log_to(options, 1, "redirected by " + server.text + " to " + std::to_string(first.outcome.brokers.size()) + " broker(s)");
  const std::vector<std::string> ranked =
      first.outcome.brokers.size() > 1 ? rank_brokers(first.outcome.brokers, options.log) : first.outcome.brokers;
  Connection last = failed(ExitCode::BrokerRedirection, "no listed broker could be used", server);
  for (const std::string& address : ranked) {
    if (stopped(options)) break;
    auto resolved = resolve_broker(address, 3653, address);
    if (const auto* reason = std::get_if<std::string>(&resolved)) {
      log_to(options, 2, "redirection: " + *reason);
      continue;
    }
    Connection c = connect_broker(cfg, std::get<BrokerTarget>(resolved), options);
    if (c.outcome.kind == NegotiationOutcome::Kind::Tunnel) return c;
    if (c.outcome.kind == NegotiationOutcome::Kind::Redirect) {
      c = failed(ExitCode::BrokerRedirection, "broker " + address + " redirected again; not followed", c.broker);
    }
    log_to(options, 1, "broker " + address + ": " + c.outcome.message);
    last = std::move(c);
  }
  return last;
}

}  // namespace tsp::tspc
