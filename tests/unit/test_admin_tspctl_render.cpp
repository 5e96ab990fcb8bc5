// tspctl's rendering: aligned tables, durations and byte counts, every command's text from a
// daemon-shaped result, and --json printing the result unchanged.
#include <catch2/catch.hpp>

#include <string>

#include "tools/tspctl/format.hpp"
#include "tools/tspctl/render.hpp"
#include "tools/tspctl/table.hpp"
#include "tools/tspctl/time_arg.hpp"

using namespace tsp::tspctl;
using tsp::admin::Command;
using nlohmann::json;

TEST_CASE("tables align columns, numbers to the right", "[tspctl][render]") {
  Table t({{"NAME"}, {"COUNT", Table::Align::Right}});
  t.add_row({"alice", "5"});
  t.add_row({"b\xc3\xa9", "12345678"});
  t.add_row({"c"});
  CHECK(t.render() ==
        "NAME      COUNT\n"
        "alice         5\n"
        "b\xc3\xa9     12345678\n"
        "c\n");
  CHECK_THROWS_AS(t.add_row({"1", "2", "3"}), std::invalid_argument);
  KeyValues kv;
  kv.add("user", "alice");
  kv.add("last seen", "5s ago");
  CHECK(kv.render() == "user:      alice\nlast seen: 5s ago\n");
}

TEST_CASE("durations, bytes, cells, timestamps", "[tspctl][render]") {
  CHECK(duration(0) == "0s");
  CHECK(duration(-5) == "0s");
  CHECK(duration(59) == "59s");
  CHECK(duration(245) == "4m05s");
  CHECK(duration(3 * 3600 + 12 * 60 + 7) == "3h12m");
  CHECK(duration(2 * 86400 + 4 * 3600) == "2d04h");
  CHECK(bytes(999) == "999B");
  CHECK(bytes(1234) == "1.2kB");
  CHECK(bytes(34'500'000) == "34.5MB");
  CHECK(bytes(999'960) == "1.0MB");
  CHECK(cell(json(nullptr)) == "-");
  CHECK(cell(json("x")) == "x");
  CHECK(cell(json(42)) == "42");
  CHECK(timestamp(1'700'000'000) == "2023-11-14 22:13:20");
  CHECK(iso_time(1'700'000'000) == "2023-11-14T22:13:20Z");
  CHECK(iso_time(0) == "1970-01-01T00:00:00Z");
}

TEST_CASE("history --at: unix seconds or a UTC time, nothing else", "[tspctl][history]") {
  CHECK(parse_time("1795183380") == 1'795'183'380);
  CHECK(parse_time("0") == 0);
  CHECK(parse_time("2026-11-20T14:03:00Z") == 1'795'183'380);
  CHECK(parse_time("2026-11-20 14:03:00") == 1'795'183'380);
  CHECK(parse_time("1970-01-01T00:00:00Z") == 0);
  CHECK(parse_time("2024-02-29T23:59:59Z") == 1'709'251'199);  // a leap day
  CHECK(parse_time("9999-12-31T23:59:59Z") == 253'402'300'799);
  CHECK(iso_time(*parse_time("2026-11-20T14:03:00Z")) == "2026-11-20T14:03:00Z");
  for (const char* bad : {"", "-5", "+5", "1e9", "253402300800", "9999999999999", "yesterday", "14:03",
                          "2026-11-20", "2026-11-20T14:03Z", "2026-11-20T14:03:00", "2026-11-20 14:03:00Z",
                          "2026-11-20T14:03:00+01:00", "2026-11-20t14:03:00z", "2026-11-20T14:03:00.5Z",
                          "2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z",
                          "2026-11-31T00:00:00Z", "2026-11-20T24:00:00Z", "2026-11-20T14:60:00Z",
                          "2026-11-20T14:03:60Z", "1969-12-31T23:59:59Z", "2026/11/20T14:03:00Z",
                          "2026-11-2xT14:03:00Z", " 2026-11-20T14:03:00Z"}) {
    INFO(bad);
    CHECK_FALSE(parse_time(bad));
  }
}

namespace {

json tunnel(uint32_t id, json user, const char* mode, json traffic) {
  return {{"id", id},           {"user", user},         {"anonymous", user.is_null()},
          {"mode", mode},       {"transport", "udp"},   {"client_ipv4", "198.51.100.7"},
          {"client_port", 40001}, {"ipv6_address", "2001:db8:f001:1::2"},
          {"prefix", id == 1 ? json("2001:db8:f100::/48") : json(nullptr)},
          {"created_at", 1'700'000'000}, {"last_seen", 1'700'000'100}, {"age_seconds", 3725},
          {"idle_seconds", 12},  {"traffic", traffic}};
}

}  // namespace

TEST_CASE("tunnels: one row per tunnel with its traffic", "[tspctl][render]") {
  const json traffic = {{"packets_in", 10}, {"bytes_in", 12000}, {"packets_out", 7}, {"bytes_out", 800}};
  const json result = {{"now", 1'700'003'725},
                       {"dataplane", true},
                       {"tunnels", {tunnel(0, nullptr, "v6udpv4", traffic), tunnel(1, "alice", "v6v4", traffic)}}};
  const std::string text = render(Command::Tunnels, result, false);
  CHECK(text ==
        "ID  USER         MODE     CLIENT              IPV6                  AGE  LAST SEEN  PKTS IN  BYTES IN"
        "  PKTS OUT  BYTES OUT\n"
        " 0  (anonymous)  v6udpv4  198.51.100.7:40001  2001:db8:f001:1::2  1h02m    12s ago       10    12.0kB"
        "         7       800B\n"
        " 1  alice        v6v4     198.51.100.7        2001:db8:f100::/48  1h02m    12s ago       10    12.0kB"
        "         7       800B\n"
        "2 tunnel(s)\n");
  json bare = result;
  bare["dataplane"] = false;
  bare["tunnels"] = {tunnel(0, nullptr, "v6v4", nullptr)};
  const std::string no_dp = render(Command::Tunnels, bare, false);
  CHECK_THAT(no_dp, Catch::Contains("      -         -         -          -\n"));
  CHECK_THAT(no_dp, Catch::EndsWith("1 tunnel(s); no dataplane runs, so no traffic counters\n"));
  // --json: the result itself, indented.
  CHECK(json::parse(render(Command::Tunnels, result, true)) == result);
}

TEST_CASE("tunnel detail, stats, pools, users and actions render", "[tspctl][render]") {
  json t = tunnel(1, "alice", "v6v4", nullptr);
  t.update({{"server_ipv4", "192.0.2.1"}, {"server_port", 0}, {"server_ipv6", "2001:db8:f001:1::1"},
            {"endpoint_pool", "P_Interco"}, {"prefix_pool", "P_Sites48"}, {"keepalive_interval", 30},
            {"mtu", 1280}, {"dns_names", ""}, {"drops", nullptr}, {"drops_note", "per worker only"}});
  const std::string detail = render(Command::Tunnel, t, false);
  CHECK_THAT(detail, Catch::Contains("prefix:       2001:db8:f100::/48 (pool P_Sites48)\n"));
  CHECK_THAT(detail, Catch::Contains("traffic:      - (no dataplane)\n"));
  CHECK_THAT(detail, Catch::Contains("drops:        per worker only\n"));

  json w = {{"lcore", 1}, {"rx", 5}, {"tx", 4}, {"encap", 2}, {"decap", 3}, {"exception", 0},
            {"keepalive_replies", 0}, {"icmp_errors", 0}, {"reassembled", 1},
            {"drops", {{"no_tunnel", 2}, {"no_route", 0}}}};
  json total = w;
  total.erase("lcore");
  const json stats = {{"dataplane", {{"workers", {w}}, {"total", total}}},
                      {"control", {{"live_tunnels", 1}, {"commits", 3}}}};
  const std::string s = render(Command::Stats, stats, false);
  CHECK_THAT(s, Catch::StartsWith("WORKER   RX  TX  ENCAP  DECAP  EXCEPTION  REASSEMBLED\n"
                                  "lcore 1   5   4      2      3          0            1\n"
                                  "total     5   4      2      3          0            1\n"));
  CHECK_THAT(s, Catch::Contains("DROP REASON  LCORE 1  TOTAL\nno_tunnel          2      2\n"));
  json older = stats;  // a daemon from before the reassembly
  older["dataplane"]["workers"][0].erase("reassembled");
  older["dataplane"]["total"].erase("reassembled");
  CHECK_THAT(render(Command::Stats, older, false), Catch::Contains("lcore 1   5   4      2      3          0            -\n"));
  CHECK_THAT(s, !Catch::Contains("no_route"));
  CHECK_THAT(s, Catch::EndsWith("control plane:\ncommits:      3\nlive_tunnels: 1\n"));
  CHECK_THAT(s, !Catch::Contains("exception limits"));  // a daemon that does not report them
  json limited = stats;
  limited["dataplane"]["exception_limits"] = {
      {"neighbor", {{"per_second", 10000}, {"burst", 1000}}},
      {"tsp", nullptr},
      {"other", {{"per_second", 200}, {"burst", 50}}},
      {"tsp-source", {{"per_second", 1000}, {"burst", 1000}}}};
  CHECK_THAT(render(Command::Stats, limited, false),
             Catch::Contains("\nexception limits: neighbor 10000/s burst 1000, other 200/s burst 50, tsp no limit, "
                             "tsp-source 1000/s burst 1000\n"));
  json with_delegation = stats;
  with_delegation["dns_delegation"] = {{"file", "/var/lib/tspbroker/delegations.zone"},
                                       {"zones", 12},
                                       {"writes", 4},
                                       {"write_failures", 1},
                                       {"reload_commands", 3},
                                       {"reload_command_failures", 2},
                                       {"names_left_out", 0},
                                       {"last_error", "rndc: exit 1\nconnection refused"}};
  CHECK_THAT(render(Command::Stats, with_delegation, false),
             Catch::EndsWith("dns delegation:\n"
                             "file:            /var/lib/tspbroker/delegations.zone\n"
                             "zones:           12\n"
                             "writes:          4 (1 failed)\n"
                             "reload commands: 3 (2 failed)\n"
                             "names left out:  0\n"
                             "last error:      rndc: exit 1 connection refused\n"));
  CHECK_THAT(render(Command::Stats, {{"dataplane", nullptr}, {"control", json::object()}}, false),
             Catch::StartsWith("dataplane: not running"));

  const json pools = {{"pools",
                       {{{"name", "P_Interco"}, {"range", "2001:db8:f001:1::/64"}, {"block_length", 128},
                         {"size", 1000}, {"used", 3}, {"free", 994}, {"quarantined", 1}, {"reserved", 2}}}}};
  CHECK(render(Command::Pools, pools, false) ==
        "POOL       RANGE                 BLOCK  SIZE  USED  FREE  QUARANTINED\n"
        "P_Interco  2001:db8:f001:1::/64   /128  1000     3   994            1\n");

  CHECK(render(Command::UserAdd, {{"user", "bob"}, {"realm", "r"}, {"action", "added"}}, false) ==
        "user 'bob' added (realm r)\n");
  CHECK(render(Command::Kick, {{"id", 3}, {"user", nullptr}, {"ipv6_address", "2001:db8::2"}, {"action", "kicked"}},
               false) == "tunnel #3 (anonymous, 2001:db8::2) kicked\n");
  CHECK(render(Command::Reload, {{"action", "reloaded"}}, false) == "OK: configuration reloaded\n");
  CHECK(render(Command::Unlock, {{"action", "unlocked"}, {"address", "192.0.2.1"}, {"released", 1}}, false) ==
        "lockout of 192.0.2.1 lifted (it was locked)\n");
  CHECK(render(Command::Unlock, {{"action", "unlocked"}, {"address", "192.0.2.1"}, {"released", 0}}, false) ==
        "lockout of 192.0.2.1 lifted (its failures forgotten)\n");
  CHECK(render(Command::Unlock, {{"action", "unlocked"}, {"address", "all"}, {"released", 3}, {"released_users", 1}},
               false) == "every lockout lifted (3 address(es) and 1 user(s) were locked)\n");
  CHECK(render(Command::UnlockUser, {{"action", "unlocked"}, {"user", "alice"}, {"released", 1}}, false) ==
        "lockout of user 'alice' lifted (it was locked)\n");
  CHECK(render(Command::UnlockUser, {{"action", "unlocked"}, {"user", "alice"}, {"released", 0}}, false) ==
        "lockout of user 'alice' lifted (its failures forgotten)\n");
  const json policy = {{"failures", 5}, {"window", 60}, {"duration", 300}};
  const json lockouts = {{"policy", policy}, {"locked", 1}, {"counting", 1},
                         {"sources",
                          {{{"address", "192.0.2.1"}, {"state", "counting"}, {"failures", 2}, {"locked_for", 0},
                            {"window_left", 41}},
                           {{"address", "198.51.100.9"}, {"state", "locked"}, {"failures", 0}, {"locked_for", 250},
                            {"window_left", 0}}}}};
  CHECK(render(Command::Lockouts, lockouts, false) ==
        "ADDRESS       STATE     FAILURES  LOCKED FOR  WINDOW LEFT\n"
        "192.0.2.1     counting         2           -          41s\n"
        "198.51.100.9  locked           0       4m10s            -\n"
        "1 address(es) locked, 1 counting; 5 failed logins within 1m00s lock an address for 5m00s\n");
  CHECK(render(Command::Lockouts, {{"policy", {{"failures", 0}, {"window", 60}, {"duration", 300}}}, {"locked", 0},
                                   {"counting", 0}, {"sources", json::array()}},
               false) == "0 address(es) locked, 0 counting; address lockout off (lockout failures 0)\n");
  const json with_users = {
      {"policy",
       {{"failures", 5}, {"window", 60}, {"duration", 300}, {"user_failures", 20}, {"user_window", 3600}}},
      {"locked", 0},
      {"counting", 0},
      {"sources", json::array()},
      {"locked_users", 1},
      {"counting_users", 1},
      {"users",
       {{{"user", "alice"}, {"state", "locked"}, {"failures", 0}, {"locked_for", 250}, {"window_left", 0},
         {"trusted_sources", 2}},
        {{"user", "bob"}, {"state", "counting"}, {"failures", 3}, {"locked_for", 0}, {"window_left", 3000},
         {"trusted_sources", 0}}}}};
  CHECK(render(Command::Lockouts, with_users, false) ==
        "USER   STATE     FAILURES  LOCKED FOR  WINDOW LEFT  TRUSTED\n"
        "alice  locked           0       4m10s            -        2\n"
        "bob    counting         3           -       50m00s        0\n"
        "0 address(es) locked, 0 counting; 5 failed logins within 1m00s lock an address for 5m00s\n"
        "1 user(s) locked, 1 counting; 20 failed logins within 1h00m lock a user name for 5m00s (not for the "
        "addresses that proved its password)\n");
  json users_off = with_users;
  users_off["policy"]["user_failures"] = 0;
  users_off["users"] = json::array();
  users_off["locked_users"] = 0;
  users_off["counting_users"] = 0;
  CHECK(render(Command::Lockouts, users_off, false) ==
        "0 address(es) locked, 0 counting; 5 failed logins within 1m00s lock an address for 5m00s\n"
        "0 user(s) locked, 0 counting; user lockout off (lockout user-failures 0)\n");
  json alice = {{"name", "alice"}, {"enabled", true}, {"realm", "r"}, {"created_at", 1'700'000'000},
                {"allocations", json::array()}, {"tunnel", nullptr}, {"daemon", true},
                {"lockout",
                 {{"state", "locked"}, {"failures", 0}, {"locked_for", 250}, {"window_left", 0},
                  {"trusted_sources", {"192.0.2.7", "198.51.100.20"}}}}};
  std::string shown = render(Command::UserShow, alice, false);
  CHECK_THAT(shown, Catch::Contains("lockout:           locked for 4m10s (tspctl unlock-user alice)\n"));
  CHECK_THAT(shown, Catch::Contains("trusted addresses: 192.0.2.7, 198.51.100.20\n"));
  alice["lockout"] = {{"state", "counting"}, {"failures", 2}, {"locked_for", 0}, {"window_left", 3000},
                      {"trusted_sources", json::array()}};
  shown = render(Command::UserShow, alice, false);
  CHECK_THAT(shown, Catch::Contains("lockout:           2 failed login(s), forgotten in 50m00s\n"));
  CHECK_THAT(shown, Catch::Contains("trusted addresses: none\n"));
  alice["lockout"] = nullptr;  // no daemon: nothing said about it
  CHECK_THAT(render(Command::UserShow, alice, false), !Catch::Contains("lockout"));
  const json users = {{"users",
                       {{{"name", "bob"}, {"enabled", true}, {"realm", "r"}, {"created_at", 1'700'000'000},
                         {"tunnel_id", nullptr}, {"ipv6_address", nullptr}}}}};
  CHECK(render(Command::Users, users, false) ==
        "USER  ENABLED  REALM  CREATED              TUNNEL  IPV6\n"
        "bob   yes      r      2023-11-14 22:13:20       -  -\n");
  // A result missing what the table needs is an error, not a crash.
  CHECK_THROWS_AS(render(Command::Pools, json::object(), false), json::exception);
}

TEST_CASE("sources: one row per address, then the limits", "[tspctl][render]") {
  const json sources = {
      {"limits", {{"sessions", 10000}, {"sessions_per_address", 256}, {"anonymous_per_address", 0}}},
      {"unfinished", 257},
      {"addresses", 2},
      {"at_limit", 1},
      {"policed", 1},
      {"sources",
       {{{"address", "198.51.100.7"}, {"sessions", 256}, {"anonymous", 3}, {"at_limit", true}, {"policed", 0}},
        {{"address", "203.0.113.9"}, {"sessions", 1}, {"anonymous", 0}, {"at_limit", false}, {"policed", 0}},
        {{"address", "203.0.113.66"}, {"sessions", 0}, {"anonymous", 0}, {"at_limit", false}, {"policed", 4980}}}}};
  CHECK(render(Command::Sources, sources, false) ==
        "ADDRESS       SESSIONS  ANONYMOUS  AT LIMIT  POLICED\n"
        "198.51.100.7       256          3  yes             0\n"
        "203.0.113.9          1          0  -               0\n"
        "203.0.113.66         0          0  -            4980\n"
        "\n"
        "257 unfinished session(s) of 10000 (max sessions) from 2 address(es) holding sessions or anonymous "
        "tunnels; 1 at a limit\n"
        "1 address(es) with TSP frames dropped by the dataplane over their share (POLICED: frames, exception "
        "limit tsp-source)\n"
        "per address: 256 unfinished session(s) (max sessions per-address), no limit anonymous tunnel(s) (limit "
        "anonymous per-address)\n");
}

namespace {

json history_record(uint32_t id, json user, const char* mode, json ended_at, json reason) {
  return {{"tunnel_id", id},
          {"user", user},
          {"mode", mode},
          {"client_ipv4", "198.51.100.7"},
          {"client_port", std::string(mode) == "v6udpv4" ? 40001 : 0},
          {"ipv6_address", "2001:db8:f001:1::2"},
          {"prefix", user.is_null() ? json(nullptr) : json("2001:db8:f100::/48")},
          {"transport", "udp"},
          {"started_at", 1'795'183'380},
          {"ended_at", ended_at},
          {"end_reason", reason}};
}

json history_query(json ipv6, json ipv4, json user, json at, unsigned limit = 100) {
  return {{"ipv6_address", ipv6}, {"client_ipv4", ipv4}, {"user", user}, {"at", at}, {"limit", limit}};
}

}  // namespace

TEST_CASE("history: newest first, UTC times, live or how it ended", "[tspctl][render][history]") {
  const json result = {{"history",
                        {history_record(7, nullptr, "v6udpv4", nullptr, nullptr),
                         history_record(3, "alice", "v6v4", 1'795'186'980, "kicked")}},
                       {"query", history_query(nullptr, "198.51.100.7", nullptr, nullptr)}};
  CHECK(render(Command::History, result, false) ==
        "STARTED               ENDED                 REASON  TUNNEL  USER         MODE     CLIENT              "
        "IPV6                PREFIX\n"
        "2026-11-20T14:03:00Z  live                  -            7  (anonymous)  v6udpv4  198.51.100.7:40001  "
        "2001:db8:f001:1::2  -\n"
        "2026-11-20T14:03:00Z  2026-11-20T15:03:00Z  kicked       3  alice        v6v4     198.51.100.7        "
        "2001:db8:f001:1::2  2001:db8:f100::/48\n"
        "2 tunnel(s), newest first\n");
  // A full answer says that older ones may exist.
  json full = result;
  full["query"]["limit"] = 2;
  CHECK_THAT(render(Command::History, full, false),
             Catch::EndsWith("\n2 tunnel(s), newest first; the limit: older ones not shown (--limit)\n"));
  CHECK(json::parse(render(Command::History, result, true)) == result);
}

TEST_CASE("history: an empty answer says what had no match", "[tspctl][render][history]") {
  auto empty = [](json query) { return render(Command::History, {{"history", json::array()}, {"query", query}}, false); };
  CHECK(empty(history_query("2001:db8::1", nullptr, nullptr, 1'795'183'380)) ==
        "no tunnel had 2001:db8::1 at 2026-11-20T14:03:00Z\n");
  CHECK(empty(history_query("2001:db8::1", nullptr, nullptr, nullptr)) == "no tunnel had 2001:db8::1\n");
  CHECK(empty(history_query(nullptr, "198.51.100.7", nullptr, 0)) ==
        "no tunnel came from 198.51.100.7 at 1970-01-01T00:00:00Z\n");
  CHECK(empty(history_query(nullptr, nullptr, "alice", nullptr)) == "user 'alice' had no tunnel\n");
  CHECK_THROWS_AS(render(Command::History, {{"history", json::array()}}, false), json::exception);
}
