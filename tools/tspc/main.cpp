// tspc: the TSP (RFC 5572) tunnel client, a drop-in for the classic tspc / gogoc 1.2.
//
//   tspc [-v|-vv|-vvv] [-n] [-b] [-f tspc.conf] [-i IF] [-u IF] [-s IF] [-r SECONDS] [-h]
//   (options and exit codes: tspc -h; settings/command_line.hpp, settings/exit_codes.hpp)
//
// What it does, in order:
//  1. reads tspc.conf, applies the command line, validates (error: message, exit 3; bad
//     option: message and usage, exit 1);
//  2. daemonises unless -n (the parent exits 0; the log names the daemon's PID);
//  3. talks TSP to `server`: UDP first, TCP when UDP gets no answer (not with -b, not for
//     v6udpv4), versions 2.0.2 > 2.0.1 > 2.0.0 > 1.0.1 on "302", the auth_method (any:
//     DIGEST-MD5 > PLAIN; anonymous when no userid), the create request, the offer, the
//     accept; redirections (1200) are followed to the nearest listed broker;
//  4. makes the tunnel: v6udpv4 = TUN `if_tunnel_v6udpv4` over the TSP UDP socket; v6v4 =
//     the kernel's sit made by the template when the kernel has sit, else TUN
//     `if_tunnel_v6v4` + raw protocol 41; then runs <tsp_dir>/template/<template>.sh
//     (TSP_OPERATION=TSP_TUNNEL_CREATION; exit status != 0: exit 18); router mode sends
//     router advertisements for the prefix's first /64 on if_prefix;
//  5. relays and sends ICMPv6 keepalives at the offered interval; 3 intervals (+5 s) without
//     a reply = keepalive time-out: teardown script, then reconnect after retry_delay (or
//     exit 21 with -b or auto_retry_connect=no);
//  6. SIGHUP: teardown script, final router advertisement, exit 0. SIGTERM/SIGINT: no
//     teardown script (as gogoc); the TUN device and sockets close with the process, which
//     then dies of that signal.
// Any other failure is logged and retried after retry_delay (doubling every 3 failures up to
// retry_delay_max); with -b or auto_retry_connect=no tspc exits with its code instead.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <string>

#include "tools/tspc/client_loop.hpp"
#include "tools/tspc/settings/command_line.hpp"

namespace {

using namespace tsp::tspc;

StopSignals g_signals;
static_assert(std::atomic<bool>::is_always_lock_free && std::atomic<int>::is_always_lock_free,
              "the stop flags are set from a signal handler");

void on_stop_signal(int signal_number) {
  g_signals.signal.store(signal_number);
  g_signals.stop.store(true);
}

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: poll() returns EINTR and the loops look at the flag
  for (int signal_number : {SIGHUP, SIGTERM, SIGINT}) sigaction(signal_number, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a closed TCP session is an error to report, not a death
}

}  // namespace

int main(int argc, char** argv) {
  CommandLine cl;
  try {
    cl = parse_command_line(argc, argv);
  } catch (const CommandLineError& e) {
    std::fprintf(stderr, "tspc: %s\n%s", e.what(), usage_text().c_str());
    return to_int(ExitCode::UsageError);
  }
  if (cl.help) {
    std::fputs(usage_text().c_str(), stdout);
    return to_int(ExitCode::Success);
  }

  TspcConfig cfg;
  try {
    cfg = load_with_overrides(cl);
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "tspc: %s\n", e.what());
    return to_int(ExitCode::InvalidConfigFile);
  }

  try {
    ClientLog log(cfg, cl.verbosity);
    install_signal_handlers();
    if (!cl.foreground) {
      // Keep the working directory: tsp_dir, the log file and the broker files may be relative.
      if (::daemon(1, 0) != 0) {
        log.error("daemon() failed; staying in the foreground");
      }
    }
    log.info("tspc " + std::string(tspc_version()) + " running as pid " + std::to_string(::getpid()) + ", config " + cfg.file);
    const ClientRunEnd end = run_client(cfg, cl.boot, log, g_signals);
    if (end.terminating_signal != 0) {
      signal(end.terminating_signal, SIG_DFL);
      raise(end.terminating_signal);
    }
    return to_int(end.code);
  } catch (const std::bad_alloc&) {
    std::fputs("tspc: out of memory\n", stderr);
    return to_int(ExitCode::MemoryStarvation);
  } catch (const std::exception& e) {
    // ClientLog's constructor is the only expected source (the log file cannot be opened).
    std::fprintf(stderr, "tspc: %s\n", e.what());
    return to_int(ExitCode::LogInitFailed);
  }
}
