// The collector against a real tunnel service (tunnels, pools, expiries from the shared
// control fixture) and a fake dataplane (fixed per-worker and per-tunnel counters).
#include <catch2/catch.hpp>

#include <future>
#include <map>
#include <string>

#include "control/auth/make_credentials.hpp"
#include "control/metrics/metrics_collector.hpp"
#include "control/metrics/prometheus_text.hpp"
#include "tests/unit/control_test_support.hpp"

using namespace tsp;
using namespace tsp::test;
using namespace tsp::metrics;

namespace {

// Per-worker and per-tunnel figures the test chooses.
class FakeDataplane : public dp::Dataplane {
 public:
  void stop() override {}
  dp::DataplaneStats stats() const override { return stats_; }
  dp::TunnelStats tunnel_stats(uint32_t id) const override {
    auto it = tunnels_.find(id);
    return it == tunnels_.end() ? dp::TunnelStats{} : it->second;
  }
  dp::DataplaneStats stats_;
  std::map<uint32_t, dp::TunnelStats> tunnels_;
};

const MetricFamily* find_family(const std::vector<MetricFamily>& families, const std::string& name) {
  for (const auto& f : families)
    if (f.name == name) return &f;
  return nullptr;
}

// The value of the sample of `name` whose labels are exactly `labels`; REQUIREs that it exists.
uint64_t value_of(const std::vector<MetricFamily>& families, const std::string& name, const Labels& labels = {}) {
  const MetricFamily* f = find_family(families, name);
  INFO("family " << name);
  REQUIRE(f != nullptr);
  for (const auto& s : f->samples) {
    if (s.labels == labels) {
      REQUIRE(std::holds_alternative<uint64_t>(s.value));
      return std::get<uint64_t>(s.value);
    }
  }
  FAIL("no sample with the given labels");
  return 0;
}

}  // namespace

TEST_CASE("tunnels by mode and host type, offers, commits and keepalive expiries", "[metrics][collector]") {
  BrokerFixture fx;
  fx.add_user("bob", "pa55word");
  TestClient anon_v6v4(fx, udp_peer("198.51.100.1"));
  anon_v6v4.anonymous_tunnel(host_request("198.51.100.1"));
  TestClient anon_nat(fx, udp_peer("198.51.100.2"));
  anon_nat.anonymous_tunnel(host_request("10.0.0.2"));  // declared != observed: NAT, v6udpv4
  TestClient router(fx, tcp_peer("198.51.100.3"));
  router.digest_tunnel("bob", "pa55word", router_request("198.51.100.3", 48));

  const MetricsCollector collector({nullptr, &fx.service(), nullptr, false});
  auto families = collector.collect();
  CHECK(value_of(families, "tspbroker_tunnels", {{"mode", "v6v4"}, {"type", "host"}}) == 1);
  CHECK(value_of(families, "tspbroker_tunnels", {{"mode", "v6v4"}, {"type", "router"}}) == 1);
  CHECK(value_of(families, "tspbroker_tunnels", {{"mode", "v6udpv4"}, {"type", "host"}}) == 1);
  CHECK(value_of(families, "tspbroker_tunnels", {{"mode", "v6udpv4"}, {"type", "router"}}) == 0);
  CHECK(value_of(families, "tspbroker_tunnels_anonymous") == 2);
  CHECK(value_of(families, "tspbroker_tunnel_offers_total") == 3);
  CHECK(value_of(families, "tspbroker_tunnel_commits_total") == 3);
  CHECK(value_of(families, "tspbroker_keepalive_expiries_total") == 0);
  // No control counters and no dataplane given: their families are left out, not zeroed.
  CHECK(find_family(families, "tspbroker_tsp_sessions_total") == nullptr);
  CHECK(find_family(families, "tspbroker_dataplane_rx_packets_total") == nullptr);

  // 30 s keepalive, 3 missed: everybody silent for longer expires.
  fx.advance(30 * 3 + 1);
  CHECK(fx.service().expire_idle(fx.now()) == 3);
  families = collector.collect();
  CHECK(value_of(families, "tspbroker_keepalive_expiries_total") == 3);
  CHECK(value_of(families, "tspbroker_tunnels", {{"mode", "v6v4"}, {"type", "host"}}) == 0);
  CHECK(value_of(families, "tspbroker_tunnels_anonymous") == 0);
}

TEST_CASE("pool utilisation: size, used, free and quarantined per pool", "[metrics][collector][pools]") {
  BrokerFixture fx;
  const MetricsCollector collector({nullptr, &fx.service(), nullptr, false});
  auto families = collector.collect();
  // Three pools of the test config: /128s out of a /64 (capped at 2^40 blocks), /48s out of
  // a /40, /64s out of a /48.
  CHECK(value_of(families, "tspbroker_pool_size_blocks", {{"pool", "P_Endpoints"}}) == (uint64_t{1} << 40));
  CHECK(value_of(families, "tspbroker_pool_size_blocks", {{"pool", "P_Sites48"}}) == 256);
  CHECK(value_of(families, "tspbroker_pool_size_blocks", {{"pool", "P_Sites64"}}) == 65536);
  const uint64_t endpoints_free = value_of(families, "tspbroker_pool_free_blocks", {{"pool", "P_Endpoints"}});
  CHECK(value_of(families, "tspbroker_pool_used_blocks", {{"pool", "P_Endpoints"}}) == 0);
  CHECK(value_of(families, "tspbroker_pool_quarantined_blocks", {{"pool", "P_Endpoints"}}) == 0);

  TestClient anon(fx, udp_peer("198.51.100.1"));
  anon.anonymous_tunnel(host_request("198.51.100.1"));
  families = collector.collect();
  CHECK(value_of(families, "tspbroker_pool_used_blocks", {{"pool", "P_Endpoints"}}) == 1);
  CHECK(value_of(families, "tspbroker_pool_free_blocks", {{"pool", "P_Endpoints"}}) == endpoints_free - 1);

  // An expired anonymous tunnel's address waits in quarantine.
  fx.advance(30 * 3 + 1);
  REQUIRE(fx.service().expire_idle(fx.now()) == 1);
  families = collector.collect();
  CHECK(value_of(families, "tspbroker_pool_used_blocks", {{"pool", "P_Endpoints"}}) == 0);
  CHECK(value_of(families, "tspbroker_pool_quarantined_blocks", {{"pool", "P_Endpoints"}}) == 1);
  CHECK(value_of(families, "tspbroker_pool_free_blocks", {{"pool", "P_Endpoints"}}) == endpoints_free - 1);
}

TEST_CASE("control counters: every result, code and mechanism is listed, zero or not", "[metrics][collector]") {
  ControlCounters counters;
  counters.session(SessionResult::accepted);
  counters.refused(Status::NoMoreTunnels);
  counters.authentication(config::AuthMechanism::Plain, AuthResult::failure);
  const MetricsCollector collector({&counters, nullptr, nullptr, false});
  const auto families = collector.collect();
  CHECK(value_of(families, "tspbroker_tsp_sessions_total", {{"result", "accepted"}}) == 1);
  CHECK(value_of(families, "tspbroker_tsp_sessions_total", {{"result", "refused"}}) == 1);
  CHECK(value_of(families, "tspbroker_tsp_sessions_total", {{"result", "timeout"}}) == 0);
  CHECK(find_family(families, "tspbroker_tsp_sessions_total")->samples.size() == kSessionResultCount);
  CHECK(value_of(families, "tspbroker_tsp_refusals_total", {{"code", "301"}}) == 1);
  CHECK(value_of(families, "tspbroker_tsp_refusals_total", {{"code", "530"}}) == 0);
  CHECK(find_family(families, "tspbroker_tsp_refusals_total")->samples.size() == kRefusalStatuses.size());
  CHECK(value_of(families, "tspbroker_tsp_authentications_total", {{"mechanism", "plain"}, {"result", "failure"}}) ==
        1);
  CHECK(value_of(families, "tspbroker_tsp_authentications_total",
                 {{"mechanism", "digest-md5"}, {"result", "success"}}) == 0);
  CHECK(find_family(families, "tspbroker_tsp_authentications_total")->samples.size() == kAuthMechanisms.size() * kAuthResults.size());
}

TEST_CASE("transport counters: UDP datagrams, drops by reason, retransmissions, TCP accepts and closes by reason",
          "[metrics][collector][transport]") {
  ControlCounters counters;
  auto& t = counters.transport();
  t.udp_received();
  t.udp_received();
  t.udp_sent();
  t.udp_dropped(UdpDrop::malformed);
  t.udp_dropped(UdpDrop::unknown_session);
  t.udp_dropped(UdpDrop::unknown_session);
  t.udp_retransmission_answered();
  t.tcp_accepted();
  t.tcp_closed(TcpClose::tunnel_gone);
  t.session_limited(SessionLimit::per_address);
  t.session_limited(SessionLimit::per_address);
  t.session_limited(SessionLimit::all);
  const auto families = MetricsCollector({&counters, nullptr, nullptr, false}).collect();
  CHECK(value_of(families, "tspbroker_tsp_udp_datagrams_total", {{"direction", "received"}}) == 2);
  CHECK(value_of(families, "tspbroker_tsp_udp_datagrams_total", {{"direction", "sent"}}) == 1);
  CHECK(value_of(families, "tspbroker_tsp_udp_dropped_total", {{"reason", "malformed"}}) == 1);
  CHECK(value_of(families, "tspbroker_tsp_udp_dropped_total", {{"reason", "unknown_session"}}) == 2);
  CHECK(value_of(families, "tspbroker_tsp_udp_dropped_total", {{"reason", "tunnel_data"}}) == 0);
  CHECK(value_of(families, "tspbroker_tsp_udp_retransmissions_answered_total") == 1);
  CHECK(value_of(families, "tspbroker_tsp_tcp_connections_total") == 1);
  CHECK(value_of(families, "tspbroker_tsp_tcp_closed_total", {{"reason", "tunnel_gone"}}) == 1);
  CHECK(value_of(families, "tspbroker_tsp_tcp_closed_total", {{"reason", "idle"}}) == 0);
  CHECK(value_of(families, "tspbroker_tsp_tcp_closed_total", {{"reason", "bad_framing"}}) == 0);
  CHECK(find_family(families, "tspbroker_tsp_udp_dropped_total")->samples.size() == kUdpDrops.size());
  CHECK(find_family(families, "tspbroker_tsp_tcp_closed_total")->samples.size() == kTcpCloses.size());
  CHECK(value_of(families, "tspbroker_tsp_sessions_limited_total", {{"limit", "per_address"}}) == 2);
  CHECK(value_of(families, "tspbroker_tsp_sessions_limited_total", {{"limit", "all"}}) == 1);
}

TEST_CASE("unfinished sessions: how many, from how many addresses, how many of those at their limit",
          "[metrics][collector][limits]") {
  SessionLimiter limiter(100, 2);
  const Ipv4Addr a{0xC6336401}, b{0xC6336402};
  REQUIRE(limiter.try_acquire(a) == SessionLimiter::Admission::admitted);
  REQUIRE(limiter.try_acquire(a) == SessionLimiter::Admission::admitted);
  REQUIRE(limiter.try_acquire(b) == SessionLimiter::Admission::admitted);
  CollectorSources sources;
  sources.sessions = limiter.figures();
  const auto families = MetricsCollector(sources).collect();
  CHECK(value_of(families, "tspbroker_tsp_sessions_unfinished") == 3);
  CHECK(value_of(families, "tspbroker_tsp_session_sources") == 2);
  CHECK(value_of(families, "tspbroker_tsp_session_sources_at_limit") == 1);
  CHECK(find_family(MetricsCollector({}).collect(), "tspbroker_tsp_sessions_unfinished") == nullptr);
}

TEST_CASE("anonymous requests refused for their address's limit are counted", "[metrics][collector][limits]") {
  ConfigText text;
  text.limit_anonymous_per_address = 1;
  BrokerFixture fx(text);
  TestClient first(fx, udp_peer("198.51.100.2", 40001));
  first.anonymous_tunnel(host_request("10.0.0.2"));
  TestClient second(fx, udp_peer("198.51.100.2", 40002));
  second.hello();
  second.login_anonymous();
  CHECK(split_framed_reply(second.create(host_request("10.0.0.3"))).status_line == "301 No more tunnels available\r\n");
  const auto families = MetricsCollector({nullptr, &fx.service(), nullptr, false}).collect();
  CHECK(value_of(families, "tspbroker_tunnels_anonymous_limited_total") == 1);
  CHECK(value_of(families, "tspbroker_tunnels_anonymous") == 1);
}

TEST_CASE("lockout gauges: addresses and user names locked at the scrape, and remembered", "[metrics][collector][lockout]") {
  constexpr int64_t kT0 = 1'700'000'000;
  AuthLockout lockout({2, 60, 300, 2, 3600});
  lockout.failed(Ipv4Addr{1}, kT0);
  lockout.failed(Ipv4Addr{1}, kT0);  // locked until kT0 + 300
  lockout.failed(Ipv4Addr{2}, kT0);  // counting
  lockout.user_failed("alice", kT0);
  lockout.user_failed("alice", kT0);  // locked until kT0 + 300
  lockout.user_failed("bob", kT0);    // counting
  lockout.user_succeeded("carol", Ipv4Addr{3}, kT0);  // remembered for her trusted address
  auto families = MetricsCollector({nullptr, nullptr, nullptr, false, &lockout, kT0 + 10}).collect();
  CHECK(value_of(families, "tspbroker_auth_locked_sources") == 1);
  CHECK(value_of(families, "tspbroker_auth_tracked_sources") == 2);
  CHECK(value_of(families, "tspbroker_auth_locked_users") == 1);
  CHECK(value_of(families, "tspbroker_auth_tracked_users") == 3);
  families = MetricsCollector({nullptr, nullptr, nullptr, false, &lockout, kT0 + 300}).collect();
  CHECK(value_of(families, "tspbroker_auth_locked_sources") == 0);  // the lock ran out
  CHECK(value_of(families, "tspbroker_auth_locked_users") == 0);
  CHECK(find_family(MetricsCollector({}).collect(), "tspbroker_auth_locked_sources") == nullptr);
}

TEST_CASE("password checker gauges: checks waiting, running, and the queue's capacity", "[metrics][collector][checker]") {
  const StoredCredentials alice = auth::make_credentials("alice", "r", "s3cret");
  PasswordChecker checker(1, 3);
  // The first check's verdict holds the only thread until the scrape is done; one more waits.
  std::promise<void> running, scraped;
  auto scraped_future = scraped.get_future();
  checker.submit({1, alice, "s3cret"}, [&](PasswordVerdict) {
    running.set_value();
    scraped_future.wait();
  });
  running.get_future().wait();
  std::promise<void> second_done;
  checker.submit({2, alice, "wrong"}, [&](PasswordVerdict) { second_done.set_value(); });
  CollectorSources sources;
  sources.password_checker = &checker;
  const auto families = MetricsCollector(sources).collect();
  scraped.set_value();
  CHECK(value_of(families, "tspbroker_password_checks_queued", {{"lane", "other"}}) == 1);
  CHECK(value_of(families, "tspbroker_password_checks_queued", {{"lane", "trusted"}}) == 0);
  CHECK(value_of(families, "tspbroker_password_checks_running") == 1);
  CHECK(value_of(families, "tspbroker_password_check_queue_capacity") == 3);
  second_done.get_future().wait();
  CHECK(find_family(MetricsCollector({}).collect(), "tspbroker_password_checks_queued") == nullptr);
}

TEST_CASE("store checkpoints: done, busy and failed runs, pages, restarts, the slowest of each kind",
          "[metrics][collector][store]") {
  store::CheckpointStats stats;
  stats.runs = 10;
  stats.busy = 3;
  stats.failures = 1;
  stats.frames_copied = 4500;
  stats.wal_restarts = 2;
  stats.longest_us = 12500;
  stats.longest_writer_us = 2500;
  CollectorSources sources;
  sources.checkpoints = stats;
  const auto families = MetricsCollector(sources).collect();
  CHECK(value_of(families, "tspbroker_store_checkpoints_total", {{"result", "done"}}) == 6);
  CHECK(value_of(families, "tspbroker_store_checkpoints_total", {{"result", "busy"}}) == 3);
  CHECK(value_of(families, "tspbroker_store_checkpoints_total", {{"result", "failed"}}) == 1);
  CHECK(value_of(families, "tspbroker_store_checkpoint_frames_total") == 4500);
  CHECK(value_of(families, "tspbroker_store_wal_restarts_total") == 2);
  const std::string text = render_prometheus_text(families);
  CHECK(text.find("\ntspbroker_store_checkpoint_longest_seconds{by=\"background\"} 0.0125\n") != std::string::npos);
  CHECK(text.find("\ntspbroker_store_checkpoint_longest_seconds{by=\"writer\"} 0.0025\n") != std::string::npos);
  CHECK(find_family(MetricsCollector({}).collect(), "tspbroker_store_checkpoints_total") == nullptr);
}

TEST_CASE("dns delegation: zones delegated, names left out, writes and reload commands by result",
          "[metrics][collector][dns]") {
  dns::DelegationStats stats;
  stats.writes = 7;
  stats.write_failures = 2;
  stats.commands = 9;
  stats.command_failures = 4;
  stats.zones = 1200;
  stats.skipped_names = 3;
  CollectorSources sources;
  sources.delegations = stats;
  const auto families = MetricsCollector(sources).collect();
  CHECK(value_of(families, "tspbroker_dns_delegated_zones") == 1200);
  CHECK(value_of(families, "tspbroker_dns_delegation_names_left_out") == 3);
  CHECK(value_of(families, "tspbroker_dns_zone_writes_total", {{"result", "written"}}) == 7);
  CHECK(value_of(families, "tspbroker_dns_zone_writes_total", {{"result", "failed"}}) == 2);
  CHECK(value_of(families, "tspbroker_dns_reload_commands_total", {{"result", "ok"}}) == 5);
  CHECK(value_of(families, "tspbroker_dns_reload_commands_total", {{"result", "failed"}}) == 4);
  // Without `dns delegation file` there is nothing to report.
  CHECK(find_family(MetricsCollector({}).collect(), "tspbroker_dns_delegated_zones") == nullptr);
}

TEST_CASE("dataplane families per worker, every drop reason by name", "[metrics][collector][dataplane]") {
  FakeDataplane dp;
  dp.stats_.workers.resize(2);
  auto& w0 = dp.stats_.workers[0];
  w0.lcore = 1;
  w0.rx = 100;
  w0.tx = 90;
  w0.decap = 40;
  w0.encap = 45;
  w0.decap_bytes = 4000;
  w0.encap_bytes = 4500;
  w0.exception = 3;
  w0.keepalive_replies = 2;
  w0.icmp_errors = 1;
  w0.reassembled = 4;
  w0.drops[static_cast<size_t>(dp::DropReason::inner_source_spoofed)] = 10;
  auto& w1 = dp.stats_.workers[1];
  w1.lcore = 2;
  w1.rx = 7;
  w1.drops[static_cast<size_t>(dp::DropReason::no_tunnel)] = 5;

  const MetricsCollector collector({nullptr, nullptr, &dp, false});
  const auto families = collector.collect();
  CHECK(value_of(families, "tspbroker_dataplane_workers") == 2);
  CHECK(value_of(families, "tspbroker_dataplane_rx_packets_total", {{"worker", "0"}}) == 100);
  CHECK(value_of(families, "tspbroker_dataplane_rx_packets_total", {{"worker", "1"}}) == 7);
  CHECK(value_of(families, "tspbroker_dataplane_tx_packets_total", {{"worker", "0"}}) == 90);
  CHECK(value_of(families, "tspbroker_dataplane_packets_total", {{"worker", "0"}, {"direction", "decap"}}) == 40);
  CHECK(value_of(families, "tspbroker_dataplane_packets_total", {{"worker", "0"}, {"direction", "encap"}}) == 45);
  CHECK(value_of(families, "tspbroker_dataplane_bytes_total", {{"worker", "0"}, {"direction", "decap"}}) == 4000);
  CHECK(value_of(families, "tspbroker_dataplane_bytes_total", {{"worker", "0"}, {"direction", "encap"}}) == 4500);
  CHECK(value_of(families, "tspbroker_dataplane_exception_packets_total", {{"worker", "0"}}) == 3);
  CHECK(value_of(families, "tspbroker_dataplane_keepalive_replies_total", {{"worker", "0"}}) == 2);
  CHECK(value_of(families, "tspbroker_dataplane_icmp_errors_total", {{"worker", "0"}}) == 1);
  CHECK(value_of(families, "tspbroker_dataplane_reassembled_packets_total", {{"worker", "0"}}) == 4);
  CHECK(value_of(families, "tspbroker_dataplane_drops_total", {{"worker", "0"}, {"reason", "inner_source_spoofed"}}) ==
        10);
  CHECK(value_of(families, "tspbroker_dataplane_drops_total", {{"worker", "1"}, {"reason", "no_tunnel"}}) == 5);
  CHECK(value_of(families, "tspbroker_dataplane_drops_total", {{"worker", "1"}, {"reason", "segmented_frame"}}) == 0);
  CHECK(find_family(families, "tspbroker_dataplane_drops_total")->samples.size() == 2 * dp::kDropReasonCount);
  // Without `metrics per-tunnel` no tunnel series.
  CHECK(find_family(families, "tspbroker_tunnel_packets_total") == nullptr);
}

TEST_CASE("per-tunnel series only with per_tunnel, one per live tunnel and direction", "[metrics][collector][per-tunnel]") {
  BrokerFixture fx;
  fx.add_user("bob", "pa55word");
  TestClient anon(fx, udp_peer("198.51.100.1"));
  anon.anonymous_tunnel(host_request("198.51.100.1"));
  TestClient bob(fx, tcp_peer("198.51.100.2"));
  bob.digest_tunnel("bob", "pa55word", host_request("198.51.100.2"));
  uint32_t bob_id = 0, anon_id = 0;
  for (const auto& rec : fx.service().tunnels()) (rec.user == "bob" ? bob_id : anon_id) = rec.id;
  REQUIRE(bob_id != anon_id);

  FakeDataplane dp;
  dp.stats_.workers.resize(1);
  dp.tunnels_[bob_id] = {5, 500, 6, 600};

  const MetricsCollector without({nullptr, &fx.service(), &dp, false});
  CHECK(find_family(without.collect(), "tspbroker_tunnel_packets_total") == nullptr);

  const MetricsCollector with({nullptr, &fx.service(), &dp, true});
  const auto families = with.collect();
  const std::string bob_label = std::to_string(bob_id), anon_label = std::to_string(anon_id);
  CHECK(value_of(families, "tspbroker_tunnel_packets_total",
                 {{"tunnel_id", bob_label}, {"user", "bob"}, {"direction", "decap"}}) == 5);
  CHECK(value_of(families, "tspbroker_tunnel_packets_total",
                 {{"tunnel_id", bob_label}, {"user", "bob"}, {"direction", "encap"}}) == 6);
  CHECK(value_of(families, "tspbroker_tunnel_bytes_total",
                 {{"tunnel_id", bob_label}, {"user", "bob"}, {"direction", "decap"}}) == 500);
  CHECK(value_of(families, "tspbroker_tunnel_bytes_total",
                 {{"tunnel_id", bob_label}, {"user", "bob"}, {"direction", "encap"}}) == 600);
  CHECK(value_of(families, "tspbroker_tunnel_packets_total",
                 {{"tunnel_id", anon_label}, {"user", ""}, {"direction", "decap"}}) == 0);
  CHECK(find_family(families, "tspbroker_tunnel_packets_total")->samples.size() == 4);
}

TEST_CASE("a full collection renders: every family named, typed and with HELP", "[metrics][collector]") {
  BrokerFixture fx;
  ControlCounters counters;
  FakeDataplane dp;
  dp.stats_.workers.resize(1);
  PasswordChecker checker(1, 4);
  const MetricsCollector collector({&counters, &fx.service(), &dp, true, &fx.lockout(), fx.now(), &checker});
  const std::string text = collector.render();
  CHECK(text.find("\n# TYPE tspbroker_password_checks_queued gauge\ntspbroker_password_checks_queued{lane=\"trusted\"} 0\n"
                  "tspbroker_password_checks_queued{lane=\"other\"} 0\n") != std::string::npos);
  CHECK(text.find("\n# TYPE tspbroker_auth_locked_sources gauge\n") != std::string::npos);
  CHECK(text.rfind("# HELP tspbroker_build_info ", 0) == 0);
  CHECK(text.find("\n# TYPE tspbroker_tsp_sessions_total counter\n") != std::string::npos);
  CHECK(text.find("\n# TYPE tspbroker_tunnels gauge\n") != std::string::npos);
  CHECK(text.find("\ntspbroker_dataplane_drops_total{worker=\"0\",reason=\"tx_full\"} 0\n") != std::string::npos);
  CHECK(text.back() == '\n');
  // Every counter is named *_total (Prometheus conventions).
  for (const auto& f : collector.collect()) {
    INFO(f.name);
    if (f.type == MetricType::counter) CHECK(f.name.size() > 6);
    if (f.type == MetricType::counter) CHECK(f.name.substr(f.name.size() - 6) == "_total");
    CHECK_FALSE(f.help.empty());
  }
}
