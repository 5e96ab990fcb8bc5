#include "control/daemon/dataplane_setup.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

namespace tsp::daemon {

namespace asio = boost::asio;

dp::DataplaneConfig dataplane_config(const config::Config& cfg) {
  const config::DataplaneSection& d = *cfg.dataplane;
  dp::DataplaneConfig out;
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
  out.tcp_port = cfg.tsp().tcp_port.value_or(0);
  for (unsigned c = 0; c < dp::kExceptionLimitCount; ++c) out.exception_limits[c] = d.exception_limits[c];
  out.tunnel_mtu = static_cast<uint16_t>(cfg.tunnel_server().mtu);
  out.max_tunnels = cfg.max_tunnels;
  return out;
}

// TSP_HAVE_DATAPLANE comes with tsp_dataplane_dep (dataplane/meson.build): a tspbrokerd
// linked without the DPDK dataplane refuses a configuration that has one.
std::unique_ptr<dp::Dataplane> start_dataplane(const dp::DataplaneConfig& cfg, const TunnelTable& table) {
#ifdef TSP_HAVE_DATAPLANE
  return dp::Dataplane::start(cfg, table);
#else
  (void)cfg;
  (void)table;
  throw std::runtime_error("this tspbrokerd was built without the DPDK dataplane: remove the 'dataplane' block");
#endif
}

bool wait_until_bindable(Ipv4Addr address) {
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

void log_dataplane_counters(const dp::DataplaneStats& stats) {
  for (const auto& w : stats.workers) {
    std::string drops;
    for (size_t i = 0; i < dp::kDropReasonCount; ++i) {
      if (w.drops[i] == 0) continue;
      drops += fmt::format(" {}={}", dp::drop_reason_name(static_cast<dp::DropReason>(i)), w.drops[i]);
    }
    spdlog::info("dataplane worker lcore {}: rx {} tx {} decap {} encap {} exception {} keepalive replies {} "
                 "icmp errors {} reassembled {}, drops:{}",
                 w.lcore, w.rx, w.tx, w.decap, w.encap, w.exception, w.keepalive_replies, w.icmp_errors,
                 w.reassembled, drops.empty() ? " none" : drops);
  }
  const dp::DataplaneStats::Worker sum = stats.total();
  std::string line =
      fmt::format("rx={} tx={} decap={} encap={} exception={} keepalive_replies={} icmp_errors={} reassembled={}",
                  sum.rx, sum.tx, sum.decap, sum.encap, sum.exception, sum.keepalive_replies, sum.icmp_errors,
                  sum.reassembled);
  for (size_t i = 0; i < dp::kDropReasonCount; ++i) {
    line += fmt::format(" drop.{}={}", dp::drop_reason_name(static_cast<dp::DropReason>(i)), sum.drops[i]);
  }
  spdlog::info("dataplane counters: {}", line);
}

}  // namespace tsp::daemon
