#include "tools/tspc/tunnel_runtime.hpp"

#include <net/if.h>
#include <signal.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <thread>

#include "tools/tspc/router_advertiser.hpp"
#include "tools/tspc/settings/template_runner.hpp"
#include "tools/tunnel/proto41_relay.hpp"
#include "tools/tunnel/relay_loop.hpp"
#include "tools/tunnel/rtnetlink.hpp"
#include "tools/tunnel/tun_device.hpp"
#include "tools/tunnel/udp_relay.hpp"

namespace tsp::tspc {
namespace {

constexpr unsigned kTunnelMtu = 1280;

// The user-space end of the tunnel, when the kernel does not carry it.
struct LocalEnd {
  std::optional<tunnel::TunDevice> tun;
  std::unique_ptr<tunnel::TunnelSocket> socket;
};

TunnelRunResult result(TunnelEnd end, ExitCode code, std::string message) { return {end, code, std::move(message)}; }

std::string summary(const TunnelInfo& info, const xml::ParsedOffer& offer) {
  std::string s = "tunnel up: " + info.mode + " on " + info.tunnel_interface + ", your IPv6 address " +
                  info.client_v6.to_string() + ", server " + info.server_v6.to_string() + " (" + info.server_v4.to_string() + ")";
  if (offer.prefix) s += ", prefix " + offer.prefix->to_string();
  if (info.dns_v6) s += ", DNS " + info.dns_v6->to_string();
  if (!info.dns_name.empty()) s += ", name " + info.dns_name;
  return s;
}

void run_teardown(const TspcConfig& cfg, const TunnelInfo& info, ClientLog& log) {
  try {
    const TemplateResult r = run_template(cfg, info, TemplateOperation::Teardown, log);
    if (r.exit_status != 0)
      log.error("teardown script exited with " + std::to_string(r.exit_status) + (r.timed_out ? " (time limit)" : ""));
  } catch (const std::exception& e) {
    log.error(std::string("teardown script: ") + e.what());
  }
}

}  // namespace

TunnelInfo make_tunnel_info(const TspcConfig& cfg, const xml::ParsedOffer& offer, const std::string& interface) {
  TunnelInfo info;
  info.mode = offer.type;
  info.host_type = cfg.host_type;
  info.tunnel_interface = interface;
  info.client_v4 = offer.client_v4.value_or(Ipv4Addr{});
  info.server_v4 = offer.server_v4.value_or(Ipv4Addr{});
  info.client_v6 = offer.client_v6.value_or(Ipv6Addr{});
  info.server_v6 = offer.server_v6.value_or(Ipv6Addr{});
  info.dns_v6 = offer.dns_server;
  info.dns_name = offer.client_dn.value_or("");
  if (offer.prefix) {
    info.prefix_text = template_prefix_text(offer.prefix->addr.to_expanded_string(), offer.prefix->len);
    info.prefix_len = offer.prefix->len;
  }
  return info;
}

bool kernel_has_sit() { return ::if_nametoindex("sit0") != 0; }

TunnelRunResult run_tunnel(const TspcConfig& cfg, Connection& connection, ClientLog& log, const StopSignals& signals) {
  const xml::ParsedOffer& offer = connection.outcome.offer;
  const bool udp_data = offer.type == "v6udpv4";
  const bool kernel_sit = !udp_data && kernel_has_sit();
  const std::string interface = udp_data ? cfg.if_tunnel_v6udpv4 : cfg.if_tunnel_v6v4;
  const TunnelInfo info = make_tunnel_info(cfg, offer, interface);

  LocalEnd local;
  if (!kernel_sit) {
    try {
      local.tun.emplace(tunnel::TunDevice::create(interface));
      tunnel::RtNetlink().configure_tunnel_link(local.tun->ifindex(), kTunnelMtu);
      if (udp_data) {
        local.socket = std::make_unique<tunnel::UdpRelay>(connection.transport->release_socket());
      } else {
        // Protocol 41 from the address the TSP session used (if_source, or the kernel's choice).
        const Ipv4Addr source = cfg.if_source.value_or(connection.transport->local_address());
        local.socket = std::make_unique<tunnel::Proto41Relay>(source, info.server_v4);
      }
    } catch (const std::exception& e) {
      return result(TunnelEnd::SetupFailed, ExitCode::InterfaceSetupFailed,
                    "cannot create tunnel interface " + interface + ": " + e.what());
    }
    log.info("created " + interface + " (user-space " + (udp_data ? "IPv6-in-UDP" : "protocol-41") + " tunnel end)");
  } else {
    log.info("the kernel has sit: the template creates " + interface);
  }

  try {
    const TemplateResult r = run_template(cfg, info, TemplateOperation::Creation, log);
    if (r.exit_status != 0) {
      return result(TunnelEnd::SetupFailed, ExitCode::InterfaceSetupFailed,
                    "template script " + template_script_path(cfg) + " exited with " + std::to_string(r.exit_status) +
                        (r.timed_out ? " (time limit)" : ""));
    }
  } catch (const std::exception& e) {
    return result(TunnelEnd::SetupFailed, ExitCode::InterfaceSetupFailed, std::string("template script: ") + e.what());
  }
  log.notice(summary(info, offer));

  std::unique_ptr<RouterAdvertiser> advertiser;
  if (cfg.host_type == HostType::Router && offer.prefix && !cfg.if_prefix.empty()) {
    if (const auto prefix64 = advertised_prefix(*offer.prefix)) {
      try {
        advertiser = std::make_unique<RouterAdvertiser>(cfg.if_prefix, *prefix64, [&log](int l, std::string_view t) { log.log(l, t); });
        log.info("advertising " + prefix64->to_string() + " on " + cfg.if_prefix);
      } catch (const std::exception& e) {
        log.error(e.what());  // the tunnel still works for the router itself
      }
    } else {
      log.error("prefix " + offer.prefix->to_string() + " is longer than /64: no router advertisements");
    }
  }

  TunnelRunResult outcome = result(TunnelEnd::Hangup, ExitCode::Success, "");
  if (local.tun) {
    tunnel::RelayOptions options;
    const uint32_t interval = offer.keepalive_interval.value_or(0);  // the broker's value wins (§3.3)
    if (interval > 0) {
      tunnel::KeepaliveSettings k;
      k.client = info.client_v6;
      k.server = offer.keepalive_address.value_or(info.server_v6);
      k.interval = std::chrono::seconds(interval);
      k.identifier = static_cast<uint16_t>(::getpid());
      k.max_missed = kKeepaliveMaxMissed;
      options.keepalive = k;
      log.info("keepalive every " + std::to_string(interval) + " s to " + k.server.to_string());
    }
    try {
      tunnel::RelayLoop loop(local.tun->fd(), *local.socket, options);
      const tunnel::RelayExit exit = loop.run(signals.stop);
      log.debug(tunnel::format_relay_counters(loop.counters()));
      if (exit == tunnel::RelayExit::keepalive_timeout)
        outcome = result(TunnelEnd::KeepaliveTimeout, ExitCode::KeepaliveTimeout,
                         "keepalive replies stopped (" + std::to_string(kKeepaliveMaxMissed) + " intervals without one)");
    } catch (const std::exception& e) {
      outcome = result(TunnelEnd::TunnelIo, ExitCode::TunnelIo, std::string("tunnel relay: ") + e.what());
    }
  } else {
    // Kernel sit: the kernel carries the packets; tspc only waits (no keepalive in this mode).
    while (!signals.stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }

  if (outcome.end == TunnelEnd::Hangup && signals.stop.load()) {
    const int sig = signals.signal.load();
    if (sig == SIGTERM || sig == SIGINT) outcome = result(TunnelEnd::Terminated, ExitCode::Success, "terminated by signal " + std::to_string(sig));
    else outcome.message = "SIGHUP: tunnel torn down";
  }
  if (advertiser) advertiser->stop();
  if (outcome.end != TunnelEnd::Terminated) run_teardown(cfg, info, log);
  return outcome;
}

}  // namespace tsp::tspc
