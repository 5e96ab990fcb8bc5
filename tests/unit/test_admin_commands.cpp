// The daemon's side of tspctl without sockets: every command against a real tunnel service,
// SQLite store and pools, with a stand-in dataplane for the counters.
#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "control/admin/admin_commands.hpp"
#include "control/admin/admin_views.hpp"
#include "control/admin/history_commands.hpp"
#include "control/admin/user_commands.hpp"
#include "tests/unit/control_test_support.hpp"
#include "tests/unit/store_test_records.hpp"

using namespace tsp;
using namespace tsp::test;
using namespace tsp::admin;
using nlohmann::json;

namespace {

// Counters a test can predict: tunnel N has N packets and 100*N bytes each way.
class FakeDataplane : public dp::Dataplane {
 public:
  void stop() override {}
  dp::DataplaneStats stats() const override {
    dp::DataplaneStats s;
    for (unsigned lcore : {1u, 2u}) {
      dp::DataplaneStats::Worker w;
      w.lcore = lcore;
      w.rx = 10 * lcore;
      w.tx = 9 * lcore;
      w.encap = 4;
      w.decap = 5;
      w.drops[static_cast<size_t>(dp::DropReason::no_tunnel)] = lcore;
      s.workers.push_back(w);
    }
    return s;
  }
  dp::TunnelStats tunnel_stats(uint32_t id) const override { return {id, 100ull * id, id + 1, 100ull * (id + 1)}; }
  std::vector<dp::PolicedSource> policed_tsp_sources() const override { return policed; }
  std::vector<dp::PolicedSource> policed;  // what the test says the workers dropped
};

xml::TunnelRequest request(const std::string& declared_v4, std::optional<unsigned> prefix_length = std::nullopt) {
  xml::TunnelRequest r;
  r.action = xml::TunnelAction::Create;
  r.type = "v6v4";
  r.client_ipv4 = declared_v4;
  r.keepalive_interval = 30;
  if (prefix_length) {
    r.router = true;
    r.prefix_length = prefix_length;
  }
  return r;
}

store::TunnelRecord open_tunnel(BrokerFixture& fx, const Identity& who, const xml::TunnelRequest& req,
                                const std::string& peer_v4) {
  auto result = fx.service().prepare(who, req, tcp_peer(peer_v4), fx.now());
  INFO(result.reason);
  REQUIRE(result.status == Status::Success);
  REQUIRE(fx.service().commit(*result.pending, fx.now()).has_value());
  for (const auto& t : fx.service().tunnels())
    if (t.client_v6 == result.offer.client_v6) return t;
  FAIL("tunnel not live");
  return {};
}

struct Harness {
  explicit Harness(bool with_dataplane = true, ConfigText text = {}) : fx(text), with_dp(with_dataplane) {
    cfg = std::make_shared<const config::Config>(fx.config());
    make_commands();
  }

  // Again after fx.restart(): the service is a new object.
  void make_commands() {
    const bool with_dataplane = with_dp;
    AdminContext ctx;
    ctx.config = [this] { return cfg; };
    ctx.store = &fx.store();
    ctx.history = &history;
    fx.service().set_history(&history);
    ctx.tunnels = &fx.service();
    ctx.dataplane = with_dataplane ? &dataplane : nullptr;
    ctx.now = [this] { return fx.now(); };
    ctx.lockout = &lockout;
    ctx.sessions = &sessions;
    ctx.dns_delegation = [this] { return delegation; };
    ctx.reload = [this](std::string& error) {
      ++reloads;
      error = reload_error;
      return reload_error.empty();
    };
    commands = std::make_unique<AdminCommands>(std::move(ctx));
  }

  AdminReply run(AdminRequest req) {
    auto result = commands->run(req);
    std::string line = result.render ? result.render() : result.reply;
    REQUIRE(!line.empty());
    REQUIRE(line.back() == '\n');
    std::string why;
    auto reply = parse_reply(line, why);
    INFO(why);
    REQUIRE(reply);
    return *reply;
  }
  json ok(AdminRequest req) {
    auto r = run(std::move(req));
    INFO(r.error);
    REQUIRE(r.ok);
    return r.result;
  }

  store::TunnelHistory history{":memory:"};  // before fx: the service it serves holds it
  BrokerFixture fx;
  bool with_dp;
  std::shared_ptr<const config::Config> cfg;
  FakeDataplane dataplane;
  AuthLockout lockout{{2, 60, 300}};
  SessionLimiter sessions{100, 3};
  std::optional<dns::DelegationStats> delegation;
  std::string reload_error;
  int reloads = 0;
  std::unique_ptr<AdminCommands> commands;
};

AdminRequest cmd(Command c, std::string target = {}) {
  AdminRequest r;
  r.command = c;
  r.target = target;
  r.name = target;
  return r;
}

// history ADDRESS (or, with an empty target, --user NAME) [--at AT] [--limit LIMIT].
AdminRequest history_cmd(std::string target, std::string user = {}, std::optional<int64_t> at = std::nullopt,
                         uint32_t limit = kDefaultHistoryLimit) {
  AdminRequest r;
  r.command = Command::History;
  r.target = std::move(target);
  r.name = std::move(user);
  r.at = at;
  r.limit = limit;
  return r;
}

AdminRequest user_cmd(Command c, std::string name, std::string password = {}) {
  AdminRequest r;
  r.command = c;
  r.name = std::move(name);
  r.password = std::move(password);
  return r;
}

}  // namespace

TEST_CASE("tunnels lists every live tunnel with its traffic, sorted by id", "[admin][commands]") {
  Harness h;
  h.fx.add_user("alice", "alice-pw");
  const auto anon = open_tunnel(h.fx, Identity{}, request("198.51.100.7"), "198.51.100.7");
  const auto alice = open_tunnel(h.fx, Identity{"alice"}, request("198.51.100.8", 48), "198.51.100.8");
  h.fx.advance(42);

  const json r = h.ok(cmd(Command::Tunnels));
  CHECK(r["dataplane"] == true);
  CHECK(r["now"] == h.fx.now());
  REQUIRE(r["tunnels"].size() == 2);
  const json& t0 = r["tunnels"][0];
  const json& t1 = r["tunnels"][1];
  CHECK(t0["id"] == anon.id);
  CHECK(t0["user"].is_null());
  CHECK(t0["anonymous"] == true);
  CHECK(t0["mode"] == "v6v4");
  CHECK(t0["client_ipv4"] == "198.51.100.7");
  CHECK(t0["prefix"].is_null());
  CHECK(t0["age_seconds"] == 42);
  CHECK(t0["traffic"]["packets_in"] == anon.id);
  CHECK(t1["user"] == "alice");
  CHECK(t1["ipv6_address"] == alice.client_v6.to_string());
  CHECK(t1["prefix"] == alice.prefix->to_string());
  CHECK(t1["traffic"]["bytes_out"] == 100 * (alice.id + 1));
  // The hand-written listing says exactly what the DOM of one tunnel says.
  const auto live = h.fx.service().tunnels();
  CHECK(t1 == tunnel_json(TunnelView{live[1], h.dataplane.tunnel_stats(live[1].id)}, h.fx.now()));
}

TEST_CASE("tunnels without a dataplane show no traffic", "[admin][commands]") {
  Harness h(false);
  open_tunnel(h.fx, Identity{}, request("198.51.100.7"), "198.51.100.7");
  const json r = h.ok(cmd(Command::Tunnels));
  CHECK(r["dataplane"] == false);
  CHECK(r["tunnels"][0]["traffic"].is_null());
}

TEST_CASE("tunnel finds one by user, address, prefix, address in the prefix, or id", "[admin][commands]") {
  Harness h;
  h.fx.add_user("alice", "alice-pw");
  const auto alice = open_tunnel(h.fx, Identity{"alice"}, request("198.51.100.8", 48), "198.51.100.8");
  const auto anon = open_tunnel(h.fx, Identity{}, request("198.51.100.7"), "198.51.100.7");
  Ipv6Addr inside = alice.prefix->addr;
  inside.bytes[15] = 0x42;
  const std::string in_prefix = inside.to_string();
  for (const std::string& target : {std::string("alice"), alice.client_v6.to_string(), alice.prefix->to_string(),
                                   in_prefix, std::to_string(alice.id)}) {
    INFO(target);
    const json r = h.ok(cmd(Command::Tunnel, target));
    CHECK(r["id"] == alice.id);
    CHECK(r["user"] == "alice");
    CHECK(r["server_ipv4"] == kServerV4);
    CHECK(r["prefix_pool"] == "P_Sites48");
    CHECK(r["drops"].is_null());
    CHECK(r["drops_note"].is_string());
  }
  CHECK(h.ok(cmd(Command::Tunnel, anon.client_v6.to_string()))["anonymous"] == true);
  for (const std::string& target : std::initializer_list<std::string> {"bob", "2001:db8:ffff::1", "2001:db8:ffff::/48", "999", "not/a/prefix"}) {
    const auto r = h.run(cmd(Command::Tunnel, target));
    CHECK_FALSE(r.ok);
    CHECK(r.status == ErrorStatus::NotFound);
    CHECK(r.error == "no live tunnel matches '" + target + "'");
  }
}

TEST_CASE("kick removes the tunnel everywhere; anonymous addresses go to quarantine", "[admin][commands]") {
  Harness h;
  const auto anon = open_tunnel(h.fx, Identity{}, request("198.51.100.7"), "198.51.100.7");
  auto endpoints = [&] {
    for (const auto& p : h.fx.service().pool_usage())
      if (p.name == "P_Endpoints") return p;
    FAIL("no endpoints pool");
    return PoolUsage{};
  };
  CHECK(endpoints().quarantined == 0);
  const json r = h.ok(cmd(Command::Kick, anon.client_v6.to_string()));
  CHECK(r["id"] == anon.id);
  CHECK(r["action"] == "kicked");
  CHECK(h.fx.service().live_tunnels() == 0);
  CHECK(h.fx.store().load_tunnels().empty());
  CHECK_FALSE(decap_proto41_lookup(h.fx.table(), v4("198.51.100.7")));
  CHECK(endpoints().quarantined == 1);
  CHECK(h.fx.store().load_quarantine().size() == 1);
  const auto again = h.run(cmd(Command::Kick, anon.client_v6.to_string()));
  CHECK(again.status == ErrorStatus::NotFound);
}

TEST_CASE("user commands: add, passwd, show, list, del", "[admin][commands]") {
  Harness h;
  CHECK(h.ok(user_cmd(Command::UserAdd, "carol", "pw1"))["action"] == "added");
  const auto dup = h.run(user_cmd(Command::UserAdd, "carol", "pw2"));
  CHECK(dup.status == ErrorStatus::Refused);
  CHECK(dup.error == "user 'carol' already exists");
  CHECK(h.run(user_cmd(Command::UserAdd, "bad name", "pw")).status == ErrorStatus::BadRequest);

  const auto before = h.fx.store().find_user("carol")->credentials;
  CHECK(h.fx.store().find_user("carol")->credentials.realm == kRealm);
  CHECK(h.ok(user_cmd(Command::UserPasswd, "carol", "pw2"))["action"] == "password changed");
  CHECK(h.fx.store().find_user("carol")->credentials.digest_md5_urp != before.digest_md5_urp);
  CHECK(h.run(user_cmd(Command::UserPasswd, "nobody", "pw")).status == ErrorStatus::NotFound);

  const auto t = open_tunnel(h.fx, Identity{"carol"}, request("198.51.100.9", 64), "198.51.100.9");
  const json shown = h.ok(user_cmd(Command::UserShow, "carol"));
  CHECK(shown["name"] == "carol");
  CHECK(shown["created_at"] == h.fx.now());
  REQUIRE(shown["allocations"].size() == 2);
  CHECK(shown["tunnel"]["id"] == t.id);
  CHECK(shown["tunnel"]["prefix"] == t.prefix->to_string());

  const json listed = h.ok(cmd(Command::Users));
  REQUIRE(listed["users"].size() == 1);
  CHECK(listed["users"][0]["tunnel_id"] == t.id);
  CHECK(listed["users"][0]["ipv6_address"] == t.client_v6.to_string());

  // Deleting the user takes its tunnel down and puts its stable blocks in quarantine.
  CHECK(h.ok(user_cmd(Command::UserDel, "carol"))["action"] == "deleted");
  CHECK(h.fx.service().live_tunnels() == 0);
  CHECK_FALSE(h.fx.store().find_user("carol"));
  CHECK(h.fx.store().load_allocations().empty());
  CHECK(h.fx.store().load_quarantine().size() == 2);
  CHECK(h.run(user_cmd(Command::UserDel, "carol")).status == ErrorStatus::NotFound);
  CHECK(h.run(user_cmd(Command::UserShow, "carol")).status == ErrorStatus::NotFound);
}

TEST_CASE("pools report size, used, free and quarantined", "[admin][commands]") {
  Harness h;
  open_tunnel(h.fx, Identity{}, request("198.51.100.7"), "198.51.100.7");
  const json r = h.ok(cmd(Command::Pools));
  REQUIRE(r["pools"].size() == 3);
  for (const auto& p : r["pools"]) {
    CHECK(p["size"].get<uint64_t>() == p["used"].get<uint64_t>() + p["free"].get<uint64_t>() +
                                           p["quarantined"].get<uint64_t>() + p["reserved"].get<uint64_t>());
    if (p["name"] == "P_Endpoints") {
      CHECK(p["range"] == "2001:db8:f001:1::/64");
      CHECK(p["block_length"] == 128);
      CHECK(p["used"] == 1);
      CHECK(p["reserved"] == 2);  // the subnet-router anycast address and ours
    }
  }
}

TEST_CASE("sources: addresses with unfinished sessions or anonymous tunnels, the busiest first", "[admin][commands]") {
  ConfigText text;
  text.limit_anonymous_per_address = 2;
  Harness h(true, text);
  json r = h.ok(cmd(Command::Sources));
  CHECK(r["sources"].empty());
  CHECK(r["limits"] == json{{"sessions", 100}, {"sessions_per_address", 3}, {"anonymous_per_address", 2}});
  CHECK(r["unfinished"] == 0);

  // 198.51.100.7: three unfinished sessions (its limit) and one anonymous tunnel; .8: two
  // anonymous tunnels (its limit); .9: one unfinished session.
  for (int i = 0; i < 3; ++i) REQUIRE(h.sessions.try_acquire(v4("198.51.100.7")) == SessionLimiter::Admission::admitted);
  REQUIRE(h.sessions.try_acquire(v4("198.51.100.9")) == SessionLimiter::Admission::admitted);
  open_tunnel(h.fx, Identity{}, request("198.51.100.7"), "198.51.100.7");
  auto behind_nat = request("10.0.0.2");
  behind_nat.type = "v6anyv4";
  for (uint16_t port : {40001, 40002}) {
    auto offer = h.fx.service().prepare(Identity{}, behind_nat, udp_peer("198.51.100.8", port), h.fx.now());
    REQUIRE(offer.status == Status::Success);
    REQUIRE(h.fx.service().commit(*offer.pending, h.fx.now()));
  }
  // The dataplane dropped TSP from .9 (which also holds a session) and from 203.0.113.66 (which
  // never got through to hold one).
  h.dataplane.policed = {{v4("203.0.113.66"), 5000}, {v4("198.51.100.9"), 40}};
  r = h.ok(cmd(Command::Sources));
  INFO(r.dump());
  REQUIRE(r["sources"].size() == 4);
  CHECK(r["sources"][0] ==
        json{{"address", "198.51.100.7"}, {"sessions", 3}, {"anonymous", 1}, {"at_limit", true}, {"policed", 0}});
  CHECK(r["sources"][1] ==
        json{{"address", "198.51.100.8"}, {"sessions", 0}, {"anonymous", 2}, {"at_limit", true}, {"policed", 0}});
  CHECK(r["sources"][2] ==
        json{{"address", "198.51.100.9"}, {"sessions", 1}, {"anonymous", 0}, {"at_limit", false}, {"policed", 40}});
  CHECK(r["sources"][3] ==
        json{{"address", "203.0.113.66"}, {"sessions", 0}, {"anonymous", 0}, {"at_limit", false}, {"policed", 5000}});
  CHECK(r["unfinished"] == 4);
  CHECK(r["addresses"] == 3);
  CHECK(r["at_limit"] == 2);
  CHECK(r["policed"] == 2);
  // Without a dataplane nothing is policed.
  Harness control_only(false, text);
  CHECK(control_only.ok(cmd(Command::Sources))["policed"] == 0);

  // Limits of 0 are none: nobody is at them.
  h.sessions.set_limits(100, 0);
  text.limit_anonymous_per_address = 0;
  h.cfg = std::make_shared<const config::Config>(parse_test_config(text));
  r = h.ok(cmd(Command::Sources));
  CHECK(r["at_limit"] == 0);
  CHECK(r["limits"]["sessions_per_address"] == 0);
}

TEST_CASE("stats: per worker, totals, control-plane counters", "[admin][commands]") {
  Harness h;
  open_tunnel(h.fx, Identity{}, request("198.51.100.7"), "198.51.100.7");
  const json r = h.ok(cmd(Command::Stats));
  CHECK(r["control"]["live_tunnels"] == 1);
  CHECK(r["control"]["commits"] == 1);
  CHECK(r["control"]["refused_anonymous_per_address"] == 0);
  REQUIRE(r["dataplane"]["workers"].size() == 2);
  CHECK(r["dataplane"]["workers"][1]["lcore"] == 2);
  CHECK(r["dataplane"]["workers"][1]["rx"] == 20);
  CHECK(r["dataplane"]["total"]["rx"] == 30);
  CHECK(r["dataplane"]["total"]["drops"]["no_tunnel"] == 3);
  CHECK(r["dataplane"]["total"]["drops"]["no_route"] == 0);
  CHECK(r["dns_delegation"].is_null());  // not configured
  CHECK(r["dataplane"].count("exception_limits") == 0);  // the harness's config has no dataplane block
  Harness bare(false);
  CHECK(bare.ok(cmd(Command::Stats))["dataplane"].is_null());

  // With `dns delegation file`: the writer's figures.
  auto with_file = parse_test_config(ConfigText{});
  with_file.dns_delegation = config::DnsDelegationConfig{"/var/lib/tspbroker/delegations.zone", 3600, {}};
  h.cfg = std::make_shared<const config::Config>(with_file);
  {
    // With a dataplane block: the exception limits in force (as a reload left them).
    auto with_dp = with_file;
    with_dp.dataplane = config::DataplaneSection{};
    with_dp.dataplane->exception_limits[1] = dp::ExceptionLimit{0, 0};
    with_dp.dataplane->exception_limits[2] = dp::ExceptionLimit{200, 50};
    with_dp.dataplane->exception_limits[dp::kTspSourceLimit] = dp::ExceptionLimit{20, 40};
    h.cfg = std::make_shared<const config::Config>(with_dp);
    CHECK(h.ok(cmd(Command::Stats))["dataplane"]["exception_limits"] ==
          json{{"neighbor", {{"per_second", 10000}, {"burst", 1000}}},
               {"tsp", nullptr},
               {"other", {{"per_second", 200}, {"burst", 50}}},
               {"tsp-source", {{"per_second", 20}, {"burst", 40}}}});
    h.cfg = std::make_shared<const config::Config>(with_file);
  }
  dns::DelegationStats s;
  s.writes = 4;
  s.write_failures = 1;
  s.commands = 3;
  s.command_failures = 2;
  s.zones = 12;
  s.skipped_names = 1;
  s.last_error = "rndc: exit 1";
  h.delegation = s;
  CHECK(h.ok(cmd(Command::Stats))["dns_delegation"] == json{{"file", "/var/lib/tspbroker/delegations.zone"},
                                                             {"zones", 12},
                                                             {"writes", 4},
                                                             {"write_failures", 1},
                                                             {"reload_commands", 3},
                                                             {"reload_command_failures", 2},
                                                             {"names_left_out", 1},
                                                             {"last_error", "rndc: exit 1"}});
}

TEST_CASE("reload reports the daemon's verdict", "[admin][commands]") {
  Harness h;
  CHECK(h.ok(cmd(Command::Reload))["action"] == "reloaded");
  h.reload_error = "broker.conf:7: unknown statement 'frobnicate'";
  const auto r = h.run(cmd(Command::Reload));
  CHECK(r.status == ErrorStatus::Refused);
  CHECK(r.error == h.reload_error);
  CHECK(h.reloads == 2);
}

TEST_CASE("100k tunnels list completely", "[admin][commands][scale]") {
  ConfigText text;
  text.limit_tunnels = 100000;
  Harness h(true, text);
  // Stored as a killed daemon leaves them, then reloaded: far quicker than 100k sessions.
  h.fx.store().transaction([&](store::Store& s) {
    for (uint32_t id = 0; id < 100000; ++id) {
      store::TunnelRecord r;
      r.id = id;
      r.anonymous = true;
      r.mode = store::TunnelModeRec::V6V4;
      r.client_v4 = Ipv4Addr{0x0a000000u + id};
      r.server_v4 = v4(kServerV4);
      r.client_v6 = nth_subprefix(prefix("2001:db8:f001:1::/64"), 128, 1000 + id).addr;
      r.server_v6 = v6(kServerV6);
      r.endpoint_pool = "P_Endpoints";
      r.transport = "tcp";
      r.mtu = 1280;
      r.keepalive_interval = 30;
      r.created_at = r.last_seen = h.fx.now();
      s.save_tunnel(r);
    }
  });
  REQUIRE(h.fx.restart() == 100000);
  h.make_commands();
  const json r = h.ok(cmd(Command::Tunnels));
  REQUIRE(r["tunnels"].size() == 100000);
  CHECK(r["tunnels"][99999]["id"] == 99999);
  CHECK(r["tunnels"][99999]["client_ipv4"] == "10.1.134.159");
  CHECK(r["tunnels"][99999]["traffic"]["packets_in"] == 99999);
}

TEST_CASE("lockouts lists locked and counting addresses; unlock lifts one or all", "[admin][commands][lockout]") {
  Harness h;
  const int64_t t = h.fx.now();
  const Ipv4Addr guesser = *Ipv4Addr::parse("198.51.100.9"), typo = *Ipv4Addr::parse("192.0.2.1");
  h.lockout.failed(guesser, t - 10);
  h.lockout.failed(guesser, t - 10);  // locked until t + 290
  h.lockout.failed(typo, t - 5);      // one failure, its window ends at t + 55

  json r = h.ok(cmd(Command::Lockouts));
  CHECK(r["policy"] ==
        json{{"failures", 2}, {"window", 60}, {"duration", 300}, {"user_failures", 20}, {"user_window", 3600}});
  CHECK(r["locked"] == 1);
  CHECK(r["counting"] == 1);
  REQUIRE(r["sources"].size() == 2);
  CHECK(r["sources"][0] == json{{"address", "192.0.2.1"}, {"state", "counting"}, {"failures", 1},
                                {"locked_for", 0}, {"window_left", 55}});
  CHECK(r["sources"][1] == json{{"address", "198.51.100.9"}, {"state", "locked"}, {"failures", 0},
                                {"locked_for", 290}, {"window_left", 0}});

  r = h.ok(cmd(Command::Unlock, "198.51.100.9"));
  CHECK(r == json{{"action", "unlocked"}, {"address", "198.51.100.9"}, {"released", 1}});
  CHECK(h.lockout.locked_for(guesser, t) == 0);
  auto refused = h.run(cmd(Command::Unlock, "198.51.100.9"));
  CHECK(refused.status == ErrorStatus::NotFound);
  CHECK(refused.error == "no failed logins remembered from 198.51.100.9");
  refused = h.run(cmd(Command::Unlock, "2001:db8::1"));
  CHECK(refused.status == ErrorStatus::BadRequest);
  CHECK(refused.error == "'2001:db8::1' is not an IPv4 address or 'all'");

  r = h.ok(cmd(Command::Unlock, "192.0.2.1"));
  CHECK(r["released"] == 0);  // it was only counting
  h.lockout.failed(guesser, t);
  h.lockout.failed(guesser, t);
  h.lockout.failed(typo, t);
  r = h.ok(cmd(Command::Unlock, "all"));
  CHECK(r == json{{"action", "unlocked"}, {"address", "all"}, {"released", 1}, {"released_users", 0}});
  CHECK(h.ok(cmd(Command::Lockouts))["sources"].empty());
}

TEST_CASE("lockouts lists user names; unlock_user lifts one, unlock all every one", "[admin][commands][lockout]") {
  Harness h;
  const int64_t t = h.fx.now();
  h.lockout.set_policy({2, 60, 300, 2, 3600});
  h.lockout.user_succeeded("alice", *Ipv4Addr::parse("198.51.100.20"), t - 100);
  h.lockout.user_failed("alice", t - 10);
  h.lockout.user_failed("alice", t - 10);  // locked until t + 290
  h.lockout.user_failed("bob", t - 600);   // one failure, the user window ends at t + 3000

  json r = h.ok(cmd(Command::Lockouts));
  CHECK(r["locked_users"] == 1);
  CHECK(r["counting_users"] == 1);
  CHECK(r["sources"].empty());
  REQUIRE(r["users"].size() == 2);
  CHECK(r["users"][0] == json{{"user", "alice"}, {"state", "locked"}, {"failures", 0}, {"locked_for", 290},
                              {"window_left", 0}, {"trusted_sources", 1}});
  CHECK(r["users"][1] == json{{"user", "bob"}, {"state", "counting"}, {"failures", 1}, {"locked_for", 0},
                              {"window_left", 3000}, {"trusted_sources", 0}});

  r = h.ok(cmd(Command::UnlockUser, "alice"));
  CHECK(r == json{{"action", "unlocked"}, {"user", "alice"}, {"released", 1}});
  CHECK(h.lockout.user_locked_for("alice", *Ipv4Addr::parse("203.0.113.1"), t) == 0);
  auto refused = h.run(cmd(Command::UnlockUser, "alice"));
  CHECK(refused.status == ErrorStatus::NotFound);
  CHECK(refused.error == "user 'alice' is neither locked out nor counting failed logins");
  CHECK(h.run(cmd(Command::UnlockUser, "nobody")).status == ErrorStatus::NotFound);

  h.lockout.user_failed("bob", t);  // bob's second: locked
  r = h.ok(cmd(Command::Unlock, "all"));
  CHECK(r == json{{"action", "unlocked"}, {"address", "all"}, {"released", 0}, {"released_users", 1}});
  CHECK(h.ok(cmd(Command::Lockouts))["users"].empty());
}

TEST_CASE("a new password or a deleted user forgets the name's lockout, trusted addresses included", "[admin][commands][lockout]") {
  const Ipv4Addr guesser = *Ipv4Addr::parse("203.0.113.66"), home = *Ipv4Addr::parse("198.51.100.20");
  SECTION("the daemon's lockout") {
    Harness h;
    const int64_t t = h.fx.now();
    h.fx.add_user("alice", "old");
    h.fx.add_user("bob", "old");
    h.lockout.set_policy({5, 60, 300, 1, 3600});
    for (const char* name : {"alice", "bob"}) {
      h.lockout.user_succeeded(name, guesser, t);  // a guesser found the old password
      h.lockout.user_succeeded(name, home, t);
      h.lockout.user_failed(name, t);  // locked
    }
    CHECK(h.ok(user_cmd(Command::UserPasswd, "alice", "new"))["action"] == "password changed");
    CHECK_FALSE(h.lockout.trusted_source("alice", guesser));
    CHECK_FALSE(h.lockout.trusted_source("alice", home));
    CHECK(h.lockout.user_locked_for("alice", home, t) == 0);  // the lock went with the old password
    CHECK(h.lockout.trusted_source("bob", guesser));       // another name keeps its own
    CHECK(h.ok(user_cmd(Command::UserDel, "bob"))["action"] == "deleted");
    CHECK_FALSE(h.lockout.trusted_source("bob", guesser));
    CHECK(h.lockout.tracked_users() == 0);
  }
  SECTION("without a daemon: what the last one saved in the store") {
    BrokerFixture fx;
    fx.add_user("alice", "old");
    fx.add_user("bob", "old");
    const store::UserLockoutRecord bob{"bob", 0, 0, 0, {guesser}};
    fx.store().save_lockouts({{{guesser, fx.now(), 2, 0}}, {{"alice", 0, 0, fx.now() + 300, {guesser, home}}, bob}});
    UserContext ctx{fx.store(), nullptr, fx.config().tsp().realm, fx.now()};
    user_passwd(ctx, "alice", "new");
    auto saved = fx.store().load_lockouts();
    CHECK(saved.users == std::vector<store::UserLockoutRecord>{bob});
    CHECK(saved.sources.size() == 1);  // addresses are not the user's to forget
    user_del(ctx, "bob");
    CHECK(fx.store().load_lockouts().users.empty());
  }
}

TEST_CASE("user del without a daemon ends the user's tunnels in the history file", "[admin][commands][history]") {
  BrokerFixture fx;
  fx.add_user("alice", "pw");
  fx.add_user("bob", "pw");
  store::TunnelRecord alices = test::udp_tunnel_with_prefix(7);  // alice's
  store::TunnelRecord bobs = test::udp_tunnel_with_prefix(8);
  bobs.user = "bob";
  bobs.client_v6 = test::v6("2001:db8:ffff::8");
  bobs.prefix = test::prefix("2001:db8:f200::/48");
  fx.store().transaction([&](store::Store& s) {
    s.save_tunnel(alices);
    s.save_tunnel(bobs);
  });
  store::TunnelHistory history(":memory:");
  history.started(alices);
  history.started(bobs);
  UserContext ctx{fx.store(), nullptr, fx.config().tsp().realm, fx.now()};
  ctx.history = &history;
  user_del(ctx, "alice");
  const auto ended = history.find(store::HistoryQuery{std::nullopt, std::nullopt, std::string("alice"), std::nullopt, 10});
  REQUIRE(ended.size() == 1);
  CHECK(ended[0].ended_at == fx.now());
  CHECK(ended[0].end_reason == "user_deleted");
  const auto live = history.find(store::HistoryQuery{std::nullopt, std::nullopt, std::string("bob"), std::nullopt, 10});
  REQUIRE(live.size() == 1);
  CHECK_FALSE(live[0].ended_at);  // another user's tunnel lives on
  // No such user: nothing ends.
  CHECK(json::parse(user_del(ctx, "carol"))["ok"] == false);
}

TEST_CASE("user show tells support whether the name is locked and from where it may still log in", "[admin][commands][lockout]") {
  Harness h;
  const int64_t t = h.fx.now();
  h.fx.add_user("alice", "pw");
  h.lockout.set_policy({5, 60, 300, 2, 3600});
  json shown = h.ok(user_cmd(Command::UserShow, "alice"));
  CHECK(shown["lockout"] == json{{"state", "clear"}, {"failures", 0}, {"locked_for", 0}, {"window_left", 0},
                                 {"trusted_sources", json::array()}});
  h.lockout.user_succeeded("alice", *Ipv4Addr::parse("198.51.100.20"), t - 100);
  h.lockout.user_succeeded("alice", *Ipv4Addr::parse("192.0.2.7"), t - 50);
  h.lockout.user_failed("alice", t - 10);
  shown = h.ok(user_cmd(Command::UserShow, "alice"));
  CHECK(shown["lockout"] == json{{"state", "counting"}, {"failures", 1}, {"locked_for", 0}, {"window_left", 3590},
                                 {"trusted_sources", {"192.0.2.7", "198.51.100.20"}}});
  h.lockout.user_failed("alice", t);
  shown = h.ok(user_cmd(Command::UserShow, "alice"));
  CHECK(shown["lockout"]["state"] == "locked");
  CHECK(shown["lockout"]["locked_for"] == 300);

  // tspctl's own fallback (no daemon) does not know the running state.
  UserContext offline{h.fx.store(), nullptr, kRealm, t};
  CHECK(json::parse(user_show(offline, "alice"))["result"]["lockout"].is_null());
}

TEST_CASE("history: who had an address, came from an IPv4 address, or was a user, and when", "[admin][commands][history]") {
  Harness h;
  h.fx.add_user("alice", "alice-pw");
  const int64_t t0 = h.fx.now();
  // alice's router from .8 for 100 s, kicked; an anonymous host from .8 at t0 + 150; alice
  // again from .9 at t0 + 200 (her stable /128 and /48 again). The last two live.
  const auto first = open_tunnel(h.fx, Identity{"alice"}, request("198.51.100.8", 48), "198.51.100.8");
  h.fx.advance(100);
  h.ok(cmd(Command::Kick, "alice"));
  h.fx.advance(50);
  const auto anon = open_tunnel(h.fx, Identity{}, request("198.51.100.8"), "198.51.100.8");
  h.fx.advance(50);
  const auto again = open_tunnel(h.fx, Identity{"alice"}, request("198.51.100.9", 48), "198.51.100.9");
  REQUIRE(again.prefix == first.prefix);
  Ipv6Addr inside = first.prefix->addr;
  inside.bytes[15] = 0x42;

  // An address inside the prefix: both of alice's tunnels, newest first, each in full.
  json r = h.ok(history_cmd(inside.to_string()));
  REQUIRE(r["history"].size() == 2);
  CHECK(r["history"][0]["tunnel_id"] == again.id);
  CHECK(r["history"][0]["client_ipv4"] == "198.51.100.9");
  CHECK(r["history"][0]["started_at"] == t0 + 200);
  CHECK(r["history"][0]["ended_at"].is_null());
  CHECK(r["history"][0]["end_reason"].is_null());
  CHECK(r["history"][1] == json{{"tunnel_id", first.id},
                                {"user", "alice"},
                                {"mode", "v6v4"},
                                {"client_ipv4", "198.51.100.8"},
                                {"client_port", 0},
                                {"ipv6_address", first.client_v6.to_string()},
                                {"prefix", first.prefix->to_string()},
                                {"transport", "tcp"},
                                {"started_at", t0},
                                {"ended_at", t0 + 100},
                                {"end_reason", "kicked"}});
  CHECK(r["query"] == json{{"ipv6_address", inside.to_string()}, {"client_ipv4", nullptr}, {"user", nullptr},
                           {"at", nullptr}, {"limit", 100}});
  CHECK(h.ok(history_cmd(first.client_v6.to_string()))["history"].size() == 2);  // its /128 too

  // At a time: who held it then (the end second included); nobody between the two.
  r = h.ok(history_cmd(inside.to_string(), {}, t0 + 50));
  REQUIRE(r["history"].size() == 1);
  CHECK(r["history"][0]["tunnel_id"] == first.id);
  CHECK(r["query"]["at"] == t0 + 50);
  CHECK(h.ok(history_cmd(inside.to_string(), {}, t0 + 100))["history"].size() == 1);
  r = h.ok(history_cmd(inside.to_string(), {}, t0 + 120));
  CHECK(r["history"].empty());
  CHECK(r["query"]["at"] == t0 + 120);

  // The client's IPv4 source: the anonymous host and alice's first tunnel.
  r = h.ok(history_cmd("198.51.100.8"));
  REQUIRE(r["history"].size() == 2);
  CHECK(r["history"][0]["tunnel_id"] == anon.id);
  CHECK(r["history"][0]["user"].is_null());
  CHECK(r["history"][1]["tunnel_id"] == first.id);
  CHECK(r["query"]["client_ipv4"] == "198.51.100.8");
  CHECK(r["query"]["ipv6_address"].is_null());
  r = h.ok(history_cmd("198.51.100.8", {}, t0 + 160));
  REQUIRE(r["history"].size() == 1);
  CHECK(r["history"][0]["tunnel_id"] == anon.id);

  // A user: hers only, and at most `limit` of them, the newest.
  r = h.ok(history_cmd({}, "alice"));
  REQUIRE(r["history"].size() == 2);
  CHECK(r["query"]["user"] == "alice");
  r = h.ok(history_cmd({}, "alice", std::nullopt, 1));
  REQUIRE(r["history"].size() == 1);
  CHECK(r["history"][0]["tunnel_id"] == again.id);
  CHECK(r["query"]["limit"] == 1);
  CHECK(h.ok(history_cmd({}, "bob"))["history"].empty());

  // No match is an empty answer, the address written canonically; no address is a bad request.
  r = h.ok(history_cmd("2001:DB8:FFFF:0::1"));
  CHECK(r["history"].empty());
  CHECK(r["query"]["ipv6_address"] == "2001:db8:ffff::1");
  CHECK(h.ok(history_cmd("203.0.113.1"))["history"].empty());
  for (const std::string& target : {std::string("not-an-address"), first.prefix->to_string(), std::string("alice")}) {
    const auto bad = h.run(history_cmd(target));
    CHECK(bad.status == ErrorStatus::BadRequest);
    CHECK(bad.error == "'" + target + "' is not an IPv6 or IPv4 address");
  }
  CHECK(h.run(history_cmd({})).status == ErrorStatus::BadRequest);

  // tspctl's own fallback (no daemon) reads the same store the same way.
  CHECK(json::parse(history_list(h.history, history_cmd("198.51.100.8")))["result"] == h.ok(history_cmd("198.51.100.8")));
}
