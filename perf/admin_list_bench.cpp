// How long listing N live tunnels (default 100000) takes: `tspctl tunnels` step by step (the
// daemon's snapshot on its I/O thread, the JSON text on its renderer thread, tspctl's parse
// of the reply and its table), and a /metrics scrape with per-tunnel series (rendered on the
// metrics server's own thread). Run from a release build:
//   admin_list_bench [N]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "config/broker_config.hpp"
#include "control/admin/admin_commands.hpp"
#include "control/metrics/metrics_collector.hpp"
#include "control/store/store.hpp"
#include "control/tunnel_service.hpp"
#include "shared/tunnel_table.hpp"
#include "tools/tspctl/render.hpp"

namespace {

using namespace tsp;
using Clock = std::chrono::steady_clock;

// Counters that look like traffic: every tunnel has some.
class CountingDataplane : public dp::Dataplane {
 public:
  void stop() override {}
  dp::DataplaneStats stats() const override { return {}; }
  dp::TunnelStats tunnel_stats(uint32_t id) const override {
    return {1000u + id, 1'200'000u + id, 900u + id, 1'100'000u + id};
  }
};

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

const char* kConfig =
    "ipv6 local pool P_Interco 2001:db8:f001::/48 128\n"
    "ipv6 local pool P_Sites48 2001:db9::/32 48\n"
    "tsp TSP_Main\n  ip address 192.0.2.1\n  transport udp 3653\n"
    "tunnel server TS_Main\n  ip address 192.0.2.1\n  ipv6 pool endpoints P_Interco\n  ipv6 pool prefix P_Sites48\n"
    "tunnel broker TB_Main\n  set tsp TSP_Main\n  set tunnel server TS_Main\n"
    "limit tunnels 1000000\n";

}  // namespace

int main(int argc, char** argv) {
  const uint32_t n = argc > 1 ? static_cast<uint32_t>(std::strtoul(argv[1], nullptr, 10)) : 100000;
  const std::string dir = "/tmp/admin_list_bench." + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  auto cfg = std::make_shared<const config::Config>(config::parse_config(kConfig, "bench.conf"));
  {
    auto store = store::Store::open_sqlite(dir + "/bench.db");
    store->transaction([&](store::Store& s) {
      for (uint32_t id = 0; id < n; ++id) {
        store::TunnelRecord r;
        r.id = id;
        r.user = "user" + std::to_string(id);
        r.anonymous = id % 2 == 0;  // half anonymous, half "registered" (prefix on some)
        if (r.anonymous) r.user.clear();
        r.mode = id % 3 == 0 ? store::TunnelModeRec::V6UDPV4 : store::TunnelModeRec::V6V4;
        r.client_v4 = Ipv4Addr{0x0a000000u + id};
        r.client_port = r.mode == store::TunnelModeRec::V6UDPV4 ? 40000 : 0;
        r.server_v4 = *Ipv4Addr::parse("192.0.2.1");
        r.client_v6 = nth_subprefix(*Ipv6Prefix::parse("2001:db8:f001::/48"), 128, 1000 + id).addr;
        r.server_v6 = *Ipv6Addr::parse("2001:db8:f001::1");
        r.endpoint_pool = "P_Interco";
        if (!r.anonymous && id % 4 == 1) {
          r.prefix = nth_subprefix(*Ipv6Prefix::parse("2001:db9::/32"), 48, id / 4);
          r.prefix_pool = "P_Sites48";
        }
        r.transport = "udp";
        r.mtu = 1280;
        r.keepalive_interval = 30;
        r.created_at = r.last_seen = 1'700'000'000;
        s.save_tunnel(r);
      }
    });
  }
  auto store = store::Store::open_sqlite(dir + "/bench.db");
  TunnelTable table(cfg->max_tunnels);
  TunnelService service(*cfg, *store, table);
  const size_t loaded = service.load_from_store(1'700'000'000);
  CountingDataplane dataplane;
  admin::AdminContext ctx;
  ctx.config = [&] { return cfg; };
  ctx.store = store.get();
  ctx.tunnels = &service;
  ctx.dataplane = &dataplane;
  ctx.now = [] { return int64_t{1'700'003'600}; };
  admin::AdminCommands commands(ctx);
  admin::AdminRequest request;
  request.command = admin::Command::Tunnels;

  for (int round = 0; round < 3; ++round) {
    auto t0 = Clock::now();
    auto result = commands.run(request);
    const double snapshot = ms_since(t0);
    t0 = Clock::now();
    const std::string line = result.render();
    const double text = ms_since(t0);
    t0 = Clock::now();
    std::string why;
    auto reply = admin::parse_reply(std::string_view(line).substr(0, line.size() - 1), why);
    const double parse = ms_since(t0);
    if (!reply || !reply->ok) {
      std::fprintf(stderr, "bad reply: %s\n", why.c_str());
      return 1;
    }
    t0 = Clock::now();
    const std::string human = tspctl::render(admin::Command::Tunnels, reply->result, false);
    const double table_ms = ms_since(t0);
    t0 = Clock::now();
    const std::string as_json = tspctl::render(admin::Command::Tunnels, reply->result, true);
    const double json_ms = ms_since(t0);
    std::printf("%zu tunnels, reply %.1f MB: daemon snapshot %.1f ms (I/O thread), JSON text %.1f ms (renderer), "
                "tspctl parse %.1f ms, table %.1f ms (%.1f MB), --json %.1f ms; table total %.1f ms\n",
                loaded, static_cast<double>(line.size()) / 1e6, snapshot, text, parse, table_ms,
                static_cast<double>(human.size()) / 1e6, json_ms, snapshot + text + parse + table_ms);
  }
  const metrics::MetricsCollector scrape({nullptr, &service, &dataplane, true});
  for (int round = 0; round < 3; ++round) {
    const auto t0 = Clock::now();
    const std::string text = scrape.render();
    std::printf("%zu tunnels, /metrics with per-tunnel series: %.1f MB rendered in %.1f ms (metrics renderer thread)\n",
                loaded, static_cast<double>(text.size()) / 1e6, ms_since(t0));
  }
  std::filesystem::remove_all(dir);
  return 0;
}
