// tsp_tunnel_client: gets a tunnel from a TSP broker as gogoc 1.2 does and carries it in user
// space (TUN + raw protocol-41 socket, or TUN + the TSP UDP socket), for the namespace tests.
//
//   tsp_tunnel_client --server 192.0.2.1[:3653] --mode v6v4|v6udpv4|v6anyv4 [--tcp]
//       [--user NAME --password PW] [--router --prefixlen N] [--tun NAME]
//       [--bind A.B.C.D] [--declare A.B.C.D] [--keepalive SECONDS]
//
// Prints the offer as key=value lines, configures the TUN interface (client /128, the first
// address of a delegated prefix, a default route into it), prints "ready=1", relays until
// SIGTERM/SIGINT/SIGHUP, then prints its counters (relay.*=N) and exits 0.
// Exit status: 1 bad usage, 2 the broker refused or did not answer, 3 the tunnel could not be
// set up locally, 4 the relay failed.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <memory>

#include "tests/netns/tsp_negotiation.hpp"
#include "tools/tunnel/proto41_relay.hpp"
#include "tools/tunnel/relay_loop.hpp"
#include "tools/tunnel/rtnetlink.hpp"
#include "tools/tunnel/tun_device.hpp"
#include "tools/tunnel/udp_relay.hpp"

namespace {

using namespace tsp;
using namespace tsp::netns;

constexpr unsigned kTunnelMtu = 1280;  // what gogoc's template sets; the broker's minimum

std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the stop flag is set from a signal handler");

void request_stop(int) { g_stop.store(true); }

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = request_stop;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: poll() returns EINTR and the loop looks at the flag
  for (int signal_number : {SIGTERM, SIGINT, SIGHUP}) sigaction(signal_number, &sa, nullptr);
}

struct Options {
  std::string server = "";
  std::string mode = "v6anyv4";
  bool tcp = false;
  std::string user, password;
  bool router = false;
  unsigned prefixlen = 64;
  std::string tun = "tsp0";
  std::string bind, declare;
  unsigned keepalive = 30;
};

// "A.B.C.D" or "A.B.C.D:PORT"; gogoc's server= syntax for IPv4.
Endpoint parse_server(const std::string& text) {
  const size_t colon = text.find(':');
  const auto address = Ipv4Addr::parse(text.substr(0, colon));
  if (!address) throw CLI::ValidationError("--server", "\"" + text + "\" is not A.B.C.D[:PORT]");
  Endpoint e{*address, 3653};
  if (colon != std::string::npos) {
    const std::string port = text.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoul(port) == 0 || std::stoul(port) > 65535)
      throw CLI::ValidationError("--server", "bad port in \"" + text + "\"");
    e.port = static_cast<uint16_t>(std::stoul(port));
  }
  return e;
}

Ipv4Addr parse_ipv4_option(const std::string& name, const std::string& text) {
  const auto a = Ipv4Addr::parse(text);
  if (!a) throw CLI::ValidationError(name, "\"" + text + "\" is not an IPv4 address");
  return *a;
}

void print_offer(const NegotiatedTunnel& t, const std::string& tun_name) {
  const Offer& o = t.offer;
  std::cout << "type=" << o.type << "\n"
            << "server_ipv4=" << o.server_ipv4.to_string() << "\n"
            << "server_ipv6=" << o.server_ipv6.to_string() << "\n"
            << "client_ipv4=" << o.client_ipv4.to_string() << "\n"
            << "client_ipv6=" << o.client_ipv6.to_string() << "\n"
            << "local_ipv4=" << t.local.address.to_string() << "\n"
            << "local_port=" << t.local.port << "\n"
            << "keepalive_interval=" << o.keepalive_interval << "\n"
            << "keepalive_address=" << (o.keepalive_address ? o.keepalive_address->to_string() : "") << "\n"
            << "tun=" << tun_name << "\n";
  if (o.prefix) {
    std::cout << "prefix=" << o.prefix->to_string() << "\n"
              << "prefix_length=" << unsigned{o.prefix->len} << "\n";
  }
  std::cout << std::flush;
}

// The first address of a delegated prefix: what the test pings to exercise /64 and /48 routes.
Ipv6Addr first_address(const Ipv6Prefix& p) {
  Ipv6Addr a = p.addr;
  a.bytes[15] |= 1;
  return a;
}

void configure_tun(const tunnel::TunDevice& tun, const Offer& o) {
  tunnel::RtNetlink netlink;
  netlink.configure_tunnel_link(tun.ifindex(), kTunnelMtu);
  netlink.add_ipv6_address(tun.ifindex(), o.client_ipv6, 128);
  if (o.prefix) netlink.add_ipv6_address(tun.ifindex(), first_address(*o.prefix), 128);
  netlink.add_ipv6_route(tun.ifindex(), Ipv6Prefix{});  // ::/0
}

std::unique_ptr<tunnel::TunnelSocket> open_tunnel_socket(NegotiatedTunnel& t) {
  if (t.offer.type == "v6v4") return std::make_unique<tunnel::Proto41Relay>(t.local.address, t.offer.server_ipv4);
  if (!t.channel->is_udp()) throw std::runtime_error("the broker offered v6udpv4 on a TCP session");
  return std::make_unique<tunnel::UdpRelay>(t.channel->release_socket());
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  CLI::App app{"Negotiates a TSP tunnel as gogoc 1.2 does and relays it through a TUN device"};
  app.add_option("--server", opt.server, "broker A.B.C.D[:PORT]")->required();
  app.add_option("--mode", opt.mode, "tunnel_mode")->check(CLI::IsMember({"v6v4", "v6udpv4", "v6anyv4"}));
  app.add_flag("--tcp", opt.tcp, "TSP over TCP instead of UDP (not with v6udpv4)");
  app.add_option("--user", opt.user, "user name (none: ANONYMOUS)");
  app.add_option("--password", opt.password, "password");
  app.add_flag("--router", opt.router, "ask for a prefix (host_type=router)");
  app.add_option("--prefixlen", opt.prefixlen, "prefix length for --router")->check(CLI::Range(1, 128));
  app.add_option("--tun", opt.tun, "TUN interface name");
  app.add_option("--bind", opt.bind, "source IPv4 of the TSP session and of the tunnel");
  app.add_option("--declare", opt.declare, "client IPv4 declared in the request (NAT detection)");
  app.add_option("--keepalive", opt.keepalive, "keepalive interval asked for (the offer's wins)")->check(CLI::Range(0, 3600));
  NegotiationSettings settings;
  try {
    app.parse(argc, argv);
    settings.server = parse_server(opt.server);
    settings.server_setting = opt.server;
    if (!opt.bind.empty()) settings.bind = parse_ipv4_option("--bind", opt.bind);
    if (!opt.declare.empty()) settings.declared_ipv4 = parse_ipv4_option("--declare", opt.declare);
    if (opt.tcp && opt.mode == "v6udpv4") throw CLI::ValidationError("--tcp", "v6udpv4 needs a UDP session");
    if (!opt.user.empty()) settings.user = opt.user;
    if (!opt.password.empty()) settings.password = opt.password;
    if (opt.user.empty() && opt.router) throw CLI::ValidationError("--router", "anonymous clients get no prefix");
    if (opt.tun.empty() || opt.tun.size() > 15 || opt.tun.find_first_of("/: \t\n") != std::string::npos)
      throw CLI::ValidationError("--tun", "\"" + opt.tun + "\" is not an interface name (1 to 15 characters)");
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 1;
  }
  settings.over_tcp = opt.tcp;
  settings.mode = opt.mode;
  if (opt.router) settings.router_prefix_length = opt.prefixlen;
  settings.keepalive_interval = opt.keepalive;
  install_stop_handlers();

  NegotiatedTunnel tunnel_info;
  try {
    tunnel_info = negotiate(settings);
  } catch (const std::exception& e) {
    std::cerr << "tsp_tunnel_client: " << e.what() << "\n";
    return 2;
  }
  print_offer(tunnel_info, opt.tun);

  std::optional<tunnel::TunDevice> tun;
  std::unique_ptr<tunnel::TunnelSocket> socket;
  try {
    tun.emplace(tunnel::TunDevice::create(opt.tun));
    configure_tun(*tun, tunnel_info.offer);
    socket = open_tunnel_socket(tunnel_info);
  } catch (const std::exception& e) {
    std::cerr << "tsp_tunnel_client: tunnel setup: " << e.what() << "\n";
    return 3;
  }
  if (tunnel_info.offer.prefix) std::cout << "prefix_address=" << first_address(*tunnel_info.offer.prefix).to_string() << "\n";
  std::cout << "ready=1" << std::endl;

  tunnel::RelayOptions relay_options;
  if (tunnel_info.offer.keepalive_interval > 0) {
    relay_options.keepalive = tunnel::KeepaliveSettings{
        tunnel_info.offer.client_ipv6, tunnel_info.offer.keepalive_address.value_or(tunnel_info.offer.server_ipv6),
        std::chrono::seconds(tunnel_info.offer.keepalive_interval), static_cast<uint16_t>(::getpid())};
  }
  int status = 0;
  tunnel::RelayLoop loop(tun->fd(), *socket, relay_options);
  try {
    loop.run(g_stop);
  } catch (const std::exception& e) {
    std::cerr << "tsp_tunnel_client: relay: " << e.what() << "\n";
    status = 4;
  }
  std::cout << tunnel::format_relay_counters(loop.counters()) << std::flush;
  return status;
}
