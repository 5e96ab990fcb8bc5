#include "tools/tspc/client_loop.hpp"

#include <signal.h>

#include "tools/tspc/retry_policy.hpp"

namespace tsp::tspc {
namespace {

ClientRunEnd stopped_by(const StopSignals& signals, ClientLog& log) {
  const int sig = signals.signal.load();
  log.notice("stopped by signal " + std::to_string(sig));
  if (sig == SIGTERM || sig == SIGINT) return {ExitCode::Success, sig};
  return {ExitCode::Success, 0};  // SIGHUP with no tunnel up: nothing to tear down
}

}  // namespace

ClientRunEnd run_client(const TspcConfig& cfg, bool boot_mode, ClientLog& log, const StopSignals& signals) {
  if (cfg.tunnel_mode == TunnelMode::V4V6) {
    log.error("tunnel_mode v4v6 is not available on Linux (as with gogoc)");
    return {ExitCode::TunnelModeNotAvailable, 0};
  }
  const bool give_up_on_failure = boot_mode || !cfg.auto_retry_connect;
  const LogFn log_fn = [&log](int level, std::string_view text) { log.log(level, text); };
  RetryPolicy retry(cfg.retry_delay, cfg.retry_delay_max);

  for (;;) {
    if (signals.stop.load()) return stopped_by(signals, log);
    ExitCode failure = ExitCode::Success;
    std::string reason;

    ConnectOptions options;
    options.boot = boot_mode;
    options.log = log_fn;
    options.stop = &signals.stop;
    Connection connection = remember_server(cfg, connect_cycle(cfg, options), log_fn);
    if (signals.stop.load()) return stopped_by(signals, log);

    if (connection.outcome.kind == NegotiationOutcome::Kind::Tunnel) {
      log.info("broker " + connection.broker.text + " offered a " + connection.outcome.offer.type + " tunnel (TSP " +
               connection.version + " over " + (connection.transport->is_udp() ? "UDP" : "TCP") + ")");
      retry.reset();
      const TunnelRunResult run = run_tunnel(cfg, connection, log, signals);
      switch (run.end) {
        case TunnelEnd::Hangup:
          log.notice("tunnel torn down (SIGHUP); exiting");
          return {ExitCode::Success, 0};
        case TunnelEnd::Terminated:
          log.notice(run.message + "; exiting without teardown");
          return {ExitCode::Success, signals.signal.load()};
        case TunnelEnd::KeepaliveTimeout:
        case TunnelEnd::SetupFailed:
        case TunnelEnd::TunnelIo:
          failure = run.code;
          reason = run.message;
          break;
      }
    } else {
      failure = connection.outcome.code;
      reason = connection.outcome.message;
    }

    log.error(reason + " [exit code " + std::to_string(to_int(failure)) + ": " + std::string(describe(failure)) + "]");
    if (give_up_on_failure) return {failure, 0};
    const auto delay = retry.next_delay();
    log.info("retrying in " + std::to_string(delay.count()) + " s");
    if (!sleep_unless_stopped(delay, signals.stop)) return stopped_by(signals, log);
  }
}

}  // namespace tsp::tspc
