// What a configuration reload may change (control/daemon/config_reload.*), how the tunnel
// service adopts a new configuration (TunnelService::reconfigure) and the syslog facilities.
#include <catch2/catch.hpp>
#include <string>

#include "control/daemon/config_reload.hpp"
#include "control/daemon/daemon_logging.hpp"
#include "tests/unit/control_test_support.hpp"

#include <syslog.h>

namespace tsp::test {
namespace {

config::Config parse(const std::string& text) { return config::parse_config(text, "broker.conf"); }

std::string replace_once(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

// `user` (a router at `addr`) gets a /64 offer; then a reload drops the /64 pool, which no
// live tunnel uses, so the offer is stale at its accept. Returns the offer.
xml::ParsedOffer router_offer_then_drop_64_pool(BrokerFixture& fx, TestClient& router, const char* addr,
                                                const std::string& user, const std::string& password) {
  router.hello();
  router.login_digest(user, password);
  auto offer = router.create_ok(router_request(addr, 64));
  REQUIRE(offer.prefix);
  ConfigText no64;
  no64.prefixes64.clear();
  std::string error;
  REQUIRE(fx.service().reconfigure(std::make_shared<const config::Config>(parse_test_config(no64)), fx.now(), error));
  return offer;
}

}  // namespace

TEST_CASE("statement_line finds a statement inside its block or at top level", "[daemon][reload]") {
  const std::string text =
      "! comment\n"
      "tsp A\n"
      "  ip address 192.0.2.1\n"
      "  ! a comment inside\n"
      "  Transport   TCP 3653\n"
      "tunnel server B\n"
      "  ip address 192.0.2.2\n"
      "store sqlite x.db\n";
  CHECK(daemon::statement_line(text, 2, "transport tcp") == 5);
  CHECK(daemon::statement_line(text, 2, "ip address") == 3);
  CHECK(daemon::statement_line(text, 6, "ip address") == 7);
  CHECK(daemon::statement_line(text, 0, "store sqlite") == 8);
  INFO("not in the block: the block's own line");
  CHECK(daemon::statement_line(text, 6, "transport tcp") == 6);
  CHECK(daemon::statement_line(text, 0, "limit tunnels") == 0);
}

TEST_CASE("restart_needed: what a reload cannot change names file:line", "[daemon][reload]") {
  const ConfigText base;
  const std::string text = base.render();
  const auto running = parse(text);

  SECTION("settings a reload applies") {
    ConfigText t = base;
    t.keepalive_interval = 10;
    t.keepalive_missed = 5;
    t.auth = "plain";
    t.prefixes64.clear();
    t.redirect_brokers = {"198.51.100.9"};
    t.limit_anonymous_per_address = 4;
    const std::string next_text =
        replace_once(t.render(), "  transport tcp 3653\n", "  transport tcp 3653\n  max sessions per-address 20\n") +
        "log level debug\nhistory keep 30\n";
    CHECK_FALSE(daemon::restart_needed(running, parse(next_text), next_text));
    const auto changes = daemon::reload_changes(running, parse(next_text));
    const auto has = [&](const std::string& s) {
      for (const auto& c : changes)
        if (c == s) return true;
      return false;
    };
    CHECK(has("keepalive interval: 30 -> 10"));
    CHECK(has("keepalive missed: 3 -> 5"));
    CHECK(has("authentication: digest-md5 plain anonymous -> plain"));
    CHECK(has("pool P_Sites64 removed"));
    CHECK(has("redirect broker: none -> 198.51.100.9"));
    CHECK(has("log level: info -> debug"));
    CHECK(has("max sessions per-address: 256 -> 20"));
    CHECK(has("limit anonymous per-address: 256 -> 4"));
    CHECK(has("history keep: 365 -> 30"));
  }
  SECTION("the TSP port") {
    const std::string next_text = replace_once(text, "  transport tcp 3653\n", "  transport tcp 3654\n");
    const auto why = daemon::restart_needed(running, parse(next_text), next_text);
    REQUIRE(why);
    CHECK(*why == "broker.conf:" + std::to_string(daemon::statement_line(next_text, 4, "transport tcp")) +
                      ": 'transport tcp' changed (3653 -> 3654): this needs a restart");
    CHECK(why->find("broker.conf:7:") == 0);
  }
  SECTION("the tunnel server's address") {
    const std::string next_text = replace_once(text, "tunnel server TS_Main\n  ip address 192.0.2.1\n",
                                               "tunnel server TS_Main\n  ip address 192.0.2.7\n");
    const auto why = daemon::restart_needed(running, parse(next_text), next_text);
    REQUIRE(why);
    CHECK(why->find("'ip address' changed (192.0.2.1 -> 192.0.2.7)") != std::string::npos);
  }
  SECTION("the table size and the store") {
    ConfigText t = base;
    t.limit_tunnels = 50;
    const std::string next_text = t.render();
    const auto why = daemon::restart_needed(running, parse(next_text), next_text);
    REQUIRE(why);
    CHECK(why->find("'limit tunnels' changed (100000 -> 50)") != std::string::npos);
    const std::string moved = text + "store sqlite /tmp/elsewhere.db\n";
    const auto why2 = daemon::restart_needed(running, parse(moved), moved);
    REQUIRE(why2);
    CHECK(why2->find("'store sqlite' changed") != std::string::npos);
  }
  SECTION("adding a dataplane") {
    const std::string next_text = text +
                                  "dataplane\n"
                                  "  eal --no-huge\n"
                                  "  port ipv4 net_tap0\n"
                                  "  port ipv6 net_tap1\n"
                                  "  ipv4 address 192.0.2.1/24\n"
                                  "  ipv6 address 2001:db8:ffff::1/64\n";
    const auto why = daemon::restart_needed(running, parse(next_text), next_text);
    REQUIRE(why);
    CHECK(why->find("'dataplane' changed (none -> a dataplane block)") != std::string::npos);
  }
  SECTION("a dataplane's exception limits: a reload applies them; its ports need a restart") {
    const std::string block =
        "dataplane\n"
        "  eal --no-huge\n"
        "  port ipv4 net_tap0\n"
        "  port ipv6 net_tap1\n"
        "  ipv4 address 192.0.2.1/24\n"
        "  ipv6 address 2001:db8:ffff::1/64\n";
    const std::string with_dp = text + block;
    const auto running_dp = parse(with_dp);
    const std::string limited =
        with_dp + "  exception limit other 200 50\n  exception limit tsp 0\n  exception limit tsp-source 20 40\n";
    CHECK_FALSE(daemon::restart_needed(running_dp, parse(limited), limited));
    const auto changes = daemon::reload_changes(running_dp, parse(limited));
    REQUIRE(changes.size() == 1);
    CHECK(changes[0] ==
          "exception limits: neighbor 10000/s burst 1000, tsp 100000/s burst 10000, other 10000/s burst 1000, "
          "tsp-source 1000/s burst 1000 -> neighbor 10000/s burst 1000, tsp no limit, other 200/s burst 50, "
          "tsp-source 20/s burst 40");
    const std::string moved = replace_once(with_dp, "port ipv4 net_tap0", "port ipv4 net_tap2");
    const auto why = daemon::restart_needed(running_dp, parse(moved), moved);
    REQUIRE(why);
    CHECK(why->find("'dataplane' changed (a dataplane block -> another dataplane block)") != std::string::npos);
  }
}

TEST_CASE("reconfigure: a new prefix pool serves at once, live tunnels stay", "[daemon][reload]") {
  BrokerFixture fx;
  fx.add_user("alice", "pw-alice");
  TestClient host(fx, udp_peer("198.51.100.10"));
  const auto first = host.anonymous_tunnel(host_request("198.51.100.10"));
  REQUIRE(fx.service().live_tunnels() == 1);

  TestClient before(fx, udp_peer("198.51.100.11"));
  before.hello();
  before.login_digest("alice", "pw-alice");
  CHECK(before.create(router_request("198.51.100.11", 56)).find("Content-length") == 0);
  CHECK(fx.service().counters().refused == 1);

  std::string text = ConfigText{}.render();
  text = "ipv6 local pool P_Sites56 2001:db8:f300::/40 56\n" + text;
  text = replace_once(text, "  ipv6 pool prefix P_Sites64\n", "  ipv6 pool prefix P_Sites64\n  ipv6 pool prefix P_Sites56\n");
  std::string error;
  REQUIRE(fx.service().reconfigure(std::make_shared<const config::Config>(parse(text)), fx.now(), error));
  CHECK(error.empty());
  CHECK(fx.service().live_tunnels() == 1);
  CHECK(fx.service().pool("P_Sites56") != nullptr);

  TestClient router(fx, udp_peer("198.51.100.12"));
  router.hello();
  router.login_digest("alice", "pw-alice");
  const auto offer = router.create_ok(router_request("198.51.100.12", 56));
  REQUIRE(offer.prefix);
  CHECK(offer.prefix->len == 56);
  CHECK(prefix("2001:db8:f300::/40").contains(offer.prefix->addr));
  router.accept();
  CHECK(fx.service().live_tunnels() == 2);
  INFO("the first tunnel is still in the dataplane's table");
  CHECK(encap_lookup(fx.table(), *first.client_v6));
}

TEST_CASE("reconfigure refuses to remove or change a pool live tunnels use", "[daemon][reload]") {
  BrokerFixture fx;
  fx.add_user("bob", "pw-bob");
  TestClient router(fx, udp_peer("198.51.100.20"));
  router.hello();
  router.login_digest("bob", "pw-bob");
  router.create_ok(router_request("198.51.100.20", 48));
  router.accept();

  ConfigText no48;
  no48.prefixes48.clear();
  std::string error;
  CHECK_FALSE(fx.service().reconfigure(std::make_shared<const config::Config>(parse_test_config(no48)), fx.now(), error));
  CHECK(error == "test.conf: pool 'P_Sites48' (test.conf:2) is used by 1 live tunnel(s): removing it needs a restart");

  ConfigText moved48;
  moved48.prefixes48 = "2001:db8:f400::/40";
  CHECK_FALSE(fx.service().reconfigure(std::make_shared<const config::Config>(parse_test_config(moved48)), fx.now(), error));
  CHECK(error.find("test.conf:2: pool 'P_Sites48' is used by 1 live tunnel(s)") == 0);
  INFO("nothing changed");
  CHECK(fx.service().config()->find_pool("P_Sites48")->range == prefix("2001:db8:f100::/40"));

  ConfigText no64;
  no64.prefixes64.clear();
  INFO("a pool no tunnel uses may go");
  CHECK(fx.service().reconfigure(std::make_shared<const config::Config>(parse_test_config(no64)), fx.now(), error));
  CHECK(fx.service().pool("P_Sites64") == nullptr);
}

TEST_CASE("reconfigure: an offer whose pool a reload removed or moved is withdrawn at its accept", "[daemon][reload]") {
  BrokerFixture fx;
  fx.add_user("dave", "pw-dave");
  std::string error;
  auto accept_refused = [](TestClient& client) {
    const auto out = client.send(kAcceptMessage);
    REQUIRE(out.replies.size() == 1);
    CHECK(split_framed_reply(out.replies[0].payload).status_line.find("310 ") == 0);  // server side error
  };

  TestClient router(fx, udp_peer("198.51.100.40"));
  const auto offer = router_offer_then_drop_64_pool(fx, router, "198.51.100.40", "dave", "pw-dave");
  accept_refused(router);
  CHECK_FALSE(encap_lookup(fx.table(), offer.prefix->addr));

  // An anonymous host's offer; the reload moves the endpoints pool.
  TestClient host(fx, udp_peer("198.51.100.41"));
  host.hello();
  host.login_anonymous();
  const auto anonymous = host.create_ok(host_request("198.51.100.41"));
  REQUIRE(anonymous.client_v6);
  ConfigText moved;
  moved.prefixes64.clear();
  moved.endpoints = "2001:db8:f001:2::/64";
  REQUIRE(fx.service().reconfigure(std::make_shared<const config::Config>(parse_test_config(moved)), fx.now(), error));
  accept_refused(host);
  CHECK_FALSE(encap_lookup(fx.table(), *anonymous.client_v6));
  CHECK(fx.service().live_tunnels() == 0);

  INFO("asked again, a client gets an address of the pool in force");
  TestClient again(fx, udp_peer("198.51.100.41", 40003));
  const auto fresh = again.anonymous_tunnel(host_request("198.51.100.41"));
  REQUIRE(fresh.client_v6);
  CHECK(prefix("2001:db8:f001:2::/64").contains(*fresh.client_v6));
  CHECK(fx.service().live_tunnels() == 1);
}

TEST_CASE("reconfigure: over TCP a withdrawn offer closes the session at its accept", "[daemon][reload]") {
  // gogoc reads nothing after its accept over TCP (tsp-protocol.md §1.4): a 310 would go
  // unread, so the broker closes the session instead of leaving it open as if the tunnel
  // were live.
  BrokerFixture fx;
  fx.add_user("erin", "pw-erin");
  TestClient router(fx, tcp_peer("198.51.100.42"));
  const auto offer = router_offer_then_drop_64_pool(fx, router, "198.51.100.42", "erin", "pw-erin");
  const auto out = router.send(kAcceptMessage);
  CHECK(out.replies.empty());
  CHECK(out.close);
  CHECK_FALSE(encap_lookup(fx.table(), offer.prefix->addr));
  CHECK(fx.service().live_tunnels() == 0);

  INFO("a live tunnel's accept over TCP stays silent and open, as before");
  TestClient again(fx, tcp_peer("198.51.100.42", 40100));
  again.hello();
  again.login_digest("erin", "pw-erin");
  again.create_ok(host_request("198.51.100.42"));
  const auto accepted = again.send(kAcceptMessage);
  CHECK(accepted.replies.empty());
  CHECK_FALSE(accepted.close);
  CHECK(fx.service().live_tunnels() == 1);
}

TEST_CASE("reconfigure: a changed pool keeps the users' addresses the store holds", "[daemon][reload]") {
  BrokerFixture fx;
  fx.add_user("carol", "pw-carol");
  TestClient c(fx, udp_peer("198.51.100.30"));
  c.hello();
  c.login_digest("carol", "pw-carol");
  const auto offer = c.create_ok(router_request("198.51.100.30", 64));
  c.disconnect();  // never accepted: no live tunnel, but carol keeps her /64 (store)
  REQUIRE(offer.prefix);
  REQUIRE(fx.service().live_tunnels() == 0);

  ConfigText wider;
  wider.prefixes64 = "2001:db8:f200::/47";  // the same start, twice the size
  std::string error;
  REQUIRE(fx.service().reconfigure(std::make_shared<const config::Config>(parse_test_config(wider)), fx.now(), error));
  const AddressPool* pool = fx.service().pool("P_Sites64");
  REQUIRE(pool);
  CHECK(pool->range() == prefix("2001:db8:f200::/47"));
  CHECK(pool->in_use(*offer.prefix));

  TestClient again(fx, udp_peer("198.51.100.30", 40002));
  again.hello();
  again.login_digest("carol", "pw-carol");
  const auto second = again.create_ok(router_request("198.51.100.30", 64));
  REQUIRE(second.prefix);
  CHECK(*second.prefix == *offer.prefix);
}

TEST_CASE("reconfigure: the quarantine of released anonymous addresses follows the reload", "[daemon][reload]") {
  ConfigText tiny;
  tiny.endpoints = "2001:db8:f001:1::/126";  // ::2 and ::3 for clients
  const std::string text = tiny.render();
  const std::string q0 = replace_once(text, "  ipv6 dns-server", "  quarantine 0\n  ipv6 dns-server");
  const std::string q3600 = replace_once(text, "  ipv6 dns-server", "  quarantine 3600\n  ipv6 dns-server");
  BrokerFixture fx(tiny);
  std::string error;
  REQUIRE(fx.service().reconfigure(std::make_shared<const config::Config>(parse(q0)), fx.now(), error));

  auto tunnel_from = [&](const char* addr) {
    TestClient c(fx, udp_peer(addr));
    return c.anonymous_tunnel(host_request(addr, "v6v4")).client_v6;
  };
  const auto a = tunnel_from("198.51.100.40");
  const auto b = tunnel_from("198.51.100.41");
  fx.advance(31 * 3 + 1);  // silent past keepalive_interval * keepalive_missed
  REQUIRE(fx.service().expire_idle(fx.now()) == 2);
  INFO("quarantine 0: the addresses come back at once");
  const auto c = tunnel_from("198.51.100.42");
  CHECK((c == a || c == b));

  REQUIRE(fx.service().reconfigure(std::make_shared<const config::Config>(parse(q3600)), fx.now(), error));
  CHECK(fx.service().config()->tunnel_server().quarantine == 3600);
  const auto d = tunnel_from("198.51.100.43");
  fx.advance(31 * 3 + 1);
  REQUIRE(fx.service().expire_idle(fx.now()) == 2);
  INFO("quarantine 3600: both addresses wait");
  TestClient late(fx, udp_peer("198.51.100.44"));
  late.hello();
  late.login_anonymous();
  CHECK(late.create(host_request("198.51.100.44", "v6v4")).find("301 ") != std::string::npos);
  (void)d;
}

TEST_CASE("syslog facilities by name", "[daemon][logging]") {
  CHECK(daemon::syslog_facility("daemon") == LOG_DAEMON);
  CHECK(daemon::syslog_facility("user") == LOG_USER);
  CHECK(daemon::syslog_facility("local0") == LOG_LOCAL0);
  CHECK(daemon::syslog_facility("local7") == LOG_LOCAL7);
  CHECK_FALSE(daemon::syslog_facility("kern"));
  CHECK_FALSE(daemon::syslog_facility(""));
}

}  // namespace tsp::test
