// The tunnel after the offer (tsp-protocol.md §5, §8.2): the local end (a TUN device carried
// over the TSP UDP socket for v6udpv4; for v6v4 the kernel's sit when it has one, made by the
// template, else a TUN device and a raw protocol-41 socket), the template script, router
// advertisements in router mode, then the relay with keepalives until a signal or a
// keepalive time-out, and the teardown.
#pragma once

#include <atomic>
#include <string>

#include "tools/tspc/connection.hpp"
#include "tools/tspc/settings/client_log.hpp"
#include "tools/tspc/settings/template_env.hpp"

namespace tsp::tspc {

// Keepalive replies missing for this many offered intervals (plus gogoc's 5 s reply time-out)
// end the tunnel: gogoc's "3 consecutive late or missing replies" (§5.2).
inline constexpr unsigned kKeepaliveMaxMissed = 3;

// Raised by the signal handlers; `signal` is the last one received.
struct StopSignals {
  std::atomic<bool> stop{false};
  std::atomic<int> signal{0};
};

enum class TunnelEnd {
  Hangup,            // SIGHUP: torn down, exit 0
  Terminated,        // SIGTERM/SIGINT: no teardown script (as gogoc), our TUN goes with its fd
  KeepaliveTimeout,  // torn down; reconnect or exit 21
  SetupFailed,       // the tunnel could not be made (TUN, socket, template): exit 18 / 19
  TunnelIo,          // the relay failed; torn down
};

struct TunnelRunResult {
  TunnelEnd end = TunnelEnd::TunnelIo;
  ExitCode code = ExitCode::TunnelIo;
  std::string message;
};

// The template's view of the offer; `interface` is the tunnel interface used.
TunnelInfo make_tunnel_info(const TspcConfig& cfg, const xml::ParsedOffer& offer, const std::string& interface);

// True when this network namespace has the kernel's sit driver (its fallback device sit0
// exists once the module is loaded).
bool kernel_has_sit();

// Runs the tunnel of `connection` (outcome Tunnel) until it ends.
TunnelRunResult run_tunnel(const TspcConfig& cfg, Connection& connection, ClientLog& log, const StopSignals& signals);

}  // namespace tsp::tspc
