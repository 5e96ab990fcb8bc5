#include <catch2/catch.hpp>

#include <fstream>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "config/broker_config.hpp"

using namespace tsp;
using namespace tsp::config;

namespace {

// Lines joined with '\n': a test's line numbers are the list positions (1-based).
std::string lines(std::initializer_list<std::string_view> list) {
  std::string out;
  for (auto l : list) (out += l) += '\n';
  return out;
}

Config parse(const std::string& text) { return parse_config(text, "t.conf"); }

// The smallest complete config. Statements added through the helpers below land on a
// known line: with_tsp → line 6, with_server → line 9, with_broker / with_top → line 12.
std::vector<std::string> minimal_lines() {
  return {
      "ipv6 local pool P_Interco 2001:db8:f001:1::/64 128",  // 1
      "ipv6 local pool P_Sites48 2001:db8:f100::/41 48",     // 2
      "tsp TSP_Main",                                        // 3
      "  ip address 192.0.2.1",                              // 4
      "  transport udp 3653",                                // 5
      "tunnel server TS_Main",                               // 6
      "  ip address 192.0.2.1",                              // 7
      "  ipv6 pool endpoints P_Interco",                     // 8
      "tunnel broker TB_Main",                               // 9
      "  set tsp TSP_Main",                                  // 10
      "  set tunnel server TS_Main",                         // 11
  };
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& l : v) out += l + "\n";
  return out;
}

std::string minimal() { return join(minimal_lines()); }

std::string insert_at(size_t index, std::string_view line) {
  auto v = minimal_lines();
  v.insert(v.begin() + static_cast<long>(index), std::string(line));
  return join(v);
}

std::string with_tsp(std::string_view line) { return insert_at(5, line); }
std::string with_server(std::string_view line) { return insert_at(8, line); }
std::string with_broker(std::string_view line) { return insert_at(11, line); }
std::string with_top(std::string_view line) { return insert_at(11, line); }

// The error `text` gives: at `line`, with every one of `words` in its reason.
void check_error(const std::string& text, int line, std::initializer_list<std::string_view> words) {
  INFO("config:\n" << text.substr(0, 4000));
  try {
    parse(text);
    FAIL("no ConfigError thrown");
  } catch (const ConfigError& e) {
    INFO("error: " << e.what());
    CHECK(e.file() == "t.conf");
    CHECK(e.line() == line);
    for (auto w : words) CHECK(e.reason().find(w) != std::string::npos);
    const std::string where = line > 0 ? "t.conf:" + std::to_string(line) + ": " : "t.conf: ";
    CHECK(std::string(e.what()) == where + e.reason());
  }
}

Ipv6Addr v6(const char* text) { return *Ipv6Addr::parse(text); }
Ipv4Addr v4(const char* text) { return *Ipv4Addr::parse(text); }

}  // namespace

// ---- accepted configurations ---------------------------------------------------------------

TEST_CASE("DESIGN.md's example is accepted as written, with a store line") {
  const auto c = parse(lines({
      "ipv6 local pool P_Interco 2001:db8:f001:1::/64 128",
      "ipv6 local pool P_Sites48 2001:db8:f100::/41 48",
      "tsp TSP_Main",
      "  ip address 192.0.2.1",
      "  transport udp 3653",
      "  transport tcp 3653",
      "tunnel server TS_Main",
      "  ip address 192.0.2.1",
      "  ipv6 pool prefix P_Sites48",
      "  ipv6 pool endpoints P_Interco",
      "tunnel broker TB_Main",
      "  set tsp TSP_Main",
      "  set tunnel server TS_Main",
      "store sqlite /var/lib/tspbroker/tspbroker.db",
  }));
  CHECK(c.file == "t.conf");
  REQUIRE(c.pools.size() == 2);
  CHECK(c.pools[0].name == "P_Interco");
  CHECK(c.pools[0].range.to_string() == "2001:db8:f001:1::/64");
  CHECK(c.pools[0].block_len == 128);
  CHECK(c.pools[0].line == 1);
  CHECK(c.pools[1].range.to_string() == "2001:db8:f100::/41");
  CHECK(c.pools[1].block_len == 48);

  const auto& tsp = c.tsp();
  CHECK(tsp.name == "TSP_Main");
  CHECK(tsp.address == v4("192.0.2.1"));
  CHECK(tsp.udp_port == 3653);
  CHECK(tsp.tcp_port == 3653);
  CHECK(tsp.line == 3);

  const auto& server = c.tunnel_server();
  CHECK(server.name == "TS_Main");
  CHECK(server.address == v4("192.0.2.1"));
  CHECK(server.endpoint_pool == "P_Interco");
  CHECK(server.prefix_pools == std::vector<std::string>{"P_Sites48"});
  CHECK(server.line == 7);

  CHECK(c.broker.name == "TB_Main");
  CHECK(c.broker.tsp == "TSP_Main");
  CHECK(c.broker.tunnel_server == "TS_Main");
  CHECK(c.broker.line == 11);
  CHECK(c.store.sqlite_path == "/var/lib/tspbroker/tspbroker.db");
}

TEST_CASE("every statement has its default when left out") {
  const auto c = parse(minimal());
  const auto& tsp = c.tsp();
  CHECK(tsp.udp_port == 3653);
  CHECK_FALSE(tsp.tcp_port);
  CHECK(tsp.auth == std::vector{AuthMechanism::ScramSha256, AuthMechanism::DigestMd5, AuthMechanism::Plain, AuthMechanism::Anonymous});
  CHECK(tsp.realm == "tspbroker");
  CHECK(tsp.keepalive_interval == 30);
  CHECK(tsp.keepalive_missed == 3);
  CHECK(tsp.max_sessions == 10000);
  CHECK(tsp.max_sessions_per_address == 256);
  CHECK(tsp.session_timeout == 60);
  CHECK(tsp.lockout_failures == 5);
  CHECK(tsp.lockout_window == 60);
  CHECK(tsp.lockout_duration == 300);
  CHECK(tsp.lockout_user_failures == 20);
  CHECK(tsp.lockout_user_window == 3600);
  CHECK(tsp.lockout_save_interval == 60);

  const auto& server = c.tunnel_server();
  CHECK(server.ipv6_address == v6("2001:db8:f001:1::1"));  // block 1 of the endpoints pool
  CHECK(server.dns_server == server.ipv6_address);
  CHECK(server.prefix_pools.empty());
  CHECK(server.mtu == 1280);
  CHECK(server.lifetime == 604800);

  CHECK(c.broker.redirect_brokers.empty());
  CHECK(c.store.sqlite_path == "tspbroker.db");
  CHECK(c.max_tunnels == 100000);
  CHECK(c.max_anonymous_per_address == 256);
  CHECK(c.log_level == "info");
  CHECK_FALSE(c.dns_delegation);
}

TEST_CASE("every statement takes a value other than its default") {
  const auto c = parse(lines({
      "ipv6 local pool P_Interco 2001:db8:f001:1::/64 128",
      "ipv6 local pool P_Sites48 2001:db8:f100::/41 48",
      "ipv6 local pool P_Sites64 2001:db8:f200::/40 64",
      "tsp TSP_Main",
      "  ip address 192.0.2.1",
      "  transport udp 4000",
      "  transport tcp 4001",
      "  authentication anonymous plain",
      "  authentication digest-md5",
      "  realm example.net",
      "  keepalive interval 45",
      "  keepalive missed 5",
      "  max sessions 500",
      "  max sessions per-address 40",
      "  session timeout 120",
      "  lockout failures 10",
      "  lockout window 30",
      "  lockout duration 900",
      "  lockout user-failures 50",
      "  lockout user-window 7200",
      "tunnel server TS_Main",
      "  ip address 192.0.2.2",
      "  ipv6 address 2001:db8:f001:1::ff",
      "  ipv6 pool endpoints P_Interco",
      "  ipv6 pool prefix P_Sites48",
      "  ipv6 pool prefix P_Sites64",
      "  ipv6 dns-server 2001:db8::53",
      "  mtu 1480",
      "  lifetime 3600",
      "tunnel broker TB_Main",
      "  set tsp TSP_Main",
      "  set tunnel server TS_Main",
      "  redirect broker 198.51.100.9",
      "  redirect broker 2001:db8::9",
      "  redirect broker broker2.example.net",
      "store sqlite /var/lib/tspbroker/tspbroker.db",
      "limit tunnels 2000",
      "limit anonymous per-address 8",
      "log level debug",
  }));
  const auto& tsp = c.tsp();
  CHECK(tsp.udp_port == 4000);
  CHECK(tsp.tcp_port == 4001);
  CHECK(tsp.auth == std::vector{AuthMechanism::Anonymous, AuthMechanism::Plain, AuthMechanism::DigestMd5});
  CHECK(tsp.realm == "example.net");
  CHECK(tsp.keepalive_interval == 45);
  CHECK(tsp.keepalive_missed == 5);
  CHECK(tsp.max_sessions == 500);
  CHECK(tsp.max_sessions_per_address == 40);
  CHECK(tsp.session_timeout == 120);
  CHECK(tsp.lockout_failures == 10);
  CHECK(tsp.lockout_window == 30);
  CHECK(tsp.lockout_duration == 900);
  CHECK(tsp.lockout_user_failures == 50);
  CHECK(tsp.lockout_user_window == 7200);

  const auto& server = c.tunnel_server();
  CHECK(server.address == v4("192.0.2.2"));
  CHECK(server.ipv6_address == v6("2001:db8:f001:1::ff"));
  CHECK(server.prefix_pools == std::vector<std::string>{"P_Sites48", "P_Sites64"});
  CHECK(server.dns_server == v6("2001:db8::53"));
  CHECK(server.mtu == 1480);
  CHECK(server.lifetime == 3600);

  CHECK(c.broker.redirect_brokers == std::vector<std::string>{"198.51.100.9", "2001:db8::9", "broker2.example.net"});
  CHECK(c.store.sqlite_path == "/var/lib/tspbroker/tspbroker.db");
  CHECK(c.max_tunnels == 2000);
  CHECK(c.max_anonymous_per_address == 8);
  CHECK(c.log_level == "debug");
}

TEST_CASE("the dns server defaults to an explicit server ipv6 address") {
  const auto c = parse(with_server("  ipv6 address 2001:db8:f001:1::53"));
  CHECK(c.tunnel_server().dns_server == v6("2001:db8:f001:1::53"));
}

TEST_CASE("numbers at both ends of their range are accepted") {
  CHECK(parse(with_tsp("  keepalive interval 5")).tsp().keepalive_interval == 5);
  CHECK(parse(with_tsp("  keepalive interval 3600")).tsp().keepalive_interval == 3600);
  CHECK(parse(with_tsp("  keepalive missed 1")).tsp().keepalive_missed == 1);
  CHECK(parse(with_tsp("  keepalive missed 100")).tsp().keepalive_missed == 100);
  CHECK(parse(with_tsp("  lockout failures 0")).tsp().lockout_failures == 0);
  CHECK(parse(with_tsp("  lockout duration 86400")).tsp().lockout_duration == 86400);
  CHECK(parse(with_tsp("  lockout user-failures 0")).tsp().lockout_user_failures == 0);
  CHECK(parse(with_tsp("  lockout user-failures 100000")).tsp().lockout_user_failures == 100000);
  CHECK(parse(with_tsp("  lockout user-window 604800")).tsp().lockout_user_window == 604800);
  CHECK(parse(with_tsp("  lockout save-interval 0")).tsp().lockout_save_interval == 0);
  CHECK(parse(with_tsp("  lockout save-interval 86400")).tsp().lockout_save_interval == 86400);
  CHECK(parse(with_tsp("  transport tcp 1")).tsp().tcp_port == 1);
  CHECK(parse(with_tsp("  transport tcp 65535")).tsp().tcp_port == 65535);
  CHECK(parse(with_server("  mtu 1280")).tunnel_server().mtu == 1280);
  CHECK(parse(with_server("  mtu 9000")).tunnel_server().mtu == 9000);
  CHECK(parse(with_server("  lifetime 4294967295")).tunnel_server().lifetime == 4294967295u);
  CHECK(parse(with_top("limit tunnels 1")).max_tunnels == 1);
  CHECK(parse(with_top("limit tunnels 16777216")).max_tunnels == 16777216);
  CHECK(parse(with_top("limit tunnels 000100")).max_tunnels == 100);
  CHECK(parse(with_top("limit anonymous per-address 0")).max_anonymous_per_address == 0);
  CHECK(parse(with_top("limit anonymous per-address 16777216")).max_anonymous_per_address == 16777216);
  CHECK(parse(minimal()).history_keep_days == 365);
  CHECK(parse(with_top("history keep 0")).history_keep_days == 0);
  CHECK(parse(with_top("history keep 36500")).history_keep_days == 36500);
  CHECK(parse(with_tsp("  max sessions per-address 0")).tsp().max_sessions_per_address == 0);
  CHECK(parse(with_tsp("  max sessions per-address 1000000")).tsp().max_sessions_per_address == 1000000);
  // The longer statement is chosen over "max sessions COUNT".
  const auto longer = parse(with_tsp("  MAX Sessions PER-ADDRESS 12"));
  CHECK(longer.tsp().max_sessions_per_address == 12);
  CHECK(longer.tsp().max_sessions == 10000);
}

TEST_CASE("keywords are case-insensitive, names are not") {
  const auto c = parse(lines({
      "IPv6 Local Pool P_Interco 2001:DB8:F001:1::/64 128",
      "TSP TSP_Main",
      "  IP ADDRESS 192.0.2.1",
      "  Transport UDP 3653",
      "  AUTHENTICATION Digest-MD5 PLAIN",
      "Tunnel Server TS_Main",
      "  Ip Address 192.0.2.1",
      "  IPV6 POOL ENDPOINTS P_Interco",
      "TUNNEL BROKER TB_Main",
      "  SET TSP TSP_Main",
      "  Set Tunnel Server TS_Main",
      "LOG LEVEL Warning",
  }));
  CHECK(c.pools[0].range.to_string() == "2001:db8:f001:1::/64");
  CHECK(c.tsp().auth == std::vector{AuthMechanism::DigestMd5, AuthMechanism::Plain});
  CHECK(c.log_level == "warning");

  auto text = minimal();
  text.replace(text.find("set tsp TSP_Main"), 16, "set tsp tsp_main");
  check_error(text, 10, {"unknown tsp 'tsp_main'"});
}

TEST_CASE("tabs, CRLF, a byte-order mark, blank lines and comments are accepted") {
  const auto c = parse(
      "\xEF\xBB\xBF# broker\r\n"
      "ipv6 local pool\tP_Interco \t 2001:db8:f001:1::/64\t128\r\n"
      "! IOS-style comment\r\n"
      "tsp TSP_Main\r\n"
      "\tip address 192.0.2.1\r\n"
      "\r\n"
      "   # an indented comment inside the block\r\n"
      "! an unindented comment does not close the block\r\n"
      " \t transport tcp 3653   \r\n"
      "tunnel server TS_Main\r\n"
      "\tip address 192.0.2.1\r\n"
      "\tipv6 pool endpoints P_Interco\r\n"
      "tunnel broker TB_Main\r\n"
      "\tset tsp TSP_Main\r\n"
      "\tset tunnel server TS_Main");  // no final line end
  CHECK(c.tsp().tcp_port == 3653);
  CHECK(c.broker.tunnel_server == "TS_Main");
}

TEST_CASE("pools may be defined after the tunnel server that uses them") {
  const auto c = parse(lines({
      "tsp T",
      "  ip address 192.0.2.1",
      "  transport udp 3653",
      "tunnel server S",
      "  ip address 192.0.2.1",
      "  ipv6 pool endpoints P_E",
      "tunnel broker B",
      "  set tsp T",
      "  set tunnel server S",
      "ipv6 local pool P_E 2001:db8:1::/64 128",
  }));
  REQUIRE(c.find_pool("P_E"));
  CHECK(c.find_pool("P_E")->line == 10);
  CHECK_FALSE(c.find_pool("p_e"));
  CHECK(c.tunnel_server().ipv6_address == v6("2001:db8:1::1"));
}

TEST_CASE("the broker picks its tsp and tunnel server among several blocks") {
  const auto c = parse(lines({
      "ipv6 local pool P_A 2001:db8:a::/64 128",
      "ipv6 local pool P_B 2001:db8:b::/64 128",
      "tsp T1",
      "  ip address 192.0.2.1",
      "  transport udp 3653",
      "tsp T2",
      "  ip address 192.0.2.2",
      "  transport tcp 3653",
      "tunnel server S1",
      "  ip address 192.0.2.1",
      "  ipv6 pool endpoints P_A",
      "tunnel server S2",
      "  ip address 192.0.2.2",
      "  ipv6 pool endpoints P_B",
      "tunnel broker B",
      "  set tunnel server S1",
      "  set tsp T2",
  }));
  CHECK(c.tsps.size() == 2);
  CHECK(c.servers.size() == 2);
  CHECK(c.tsp().name == "T2");
  CHECK(c.tsp().address == v4("192.0.2.2"));
  CHECK(c.tunnel_server().name == "S1");
  CHECK(c.tunnel_server().ipv6_address == v6("2001:db8:a::1"));
}

TEST_CASE("a Config that did not come from the parser has no tsp or tunnel server") {
  const Config empty;
  CHECK_THROWS_AS(empty.tsp(), std::out_of_range);
  CHECK_THROWS_AS(empty.tunnel_server(), std::out_of_range);
  CHECK(empty.find_pool("P") == nullptr);
}

TEST_CASE("authentication mechanisms print as the config file spells them") {
  CHECK(to_string(AuthMechanism::Anonymous) == "anonymous");
  CHECK(to_string(AuthMechanism::Plain) == "plain");
  CHECK(to_string(AuthMechanism::DigestMd5) == "digest-md5");
}

TEST_CASE("redirect brokers may be IPv4, IPv6 or DNS names") {
  CHECK(parse(with_broker("  redirect broker 198.51.100.9")).broker.redirect_brokers.front() == "198.51.100.9");
  CHECK(parse(with_broker("  redirect broker 2001:db8::9")).broker.redirect_brokers.front() == "2001:db8::9");
  CHECK(parse(with_broker("  redirect broker tb-2.example.net.")).broker.redirect_brokers.front() ==
        "tb-2.example.net.");
  CHECK(parse(with_broker("  redirect broker localhost")).broker.redirect_brokers.front() == "localhost");
}

// ---- the example file and the embedded default ----------------------------------------------

TEST_CASE("dns delegation: the file, a ttl, a reload command of several words") {
  const auto c = parse(with_top("dns delegation file /var/lib/tspbroker/delegations.zone"));
  REQUIRE(c.dns_delegation);
  CHECK(c.dns_delegation->file == "/var/lib/tspbroker/delegations.zone");
  CHECK(c.dns_delegation->ttl == 3600);
  CHECK(c.dns_delegation->reload_command.empty());

  const auto all = parse(insert_at(11, "dns delegation file d.zone\nDNS Delegation TTL 60\n"
                                       "dns delegation reload /usr/sbin/rndc reload 0.0.2.f.8.b.d.0.1.0.0.2.ip6.arpa"));
  REQUIRE(all.dns_delegation);
  CHECK(all.dns_delegation->file == "d.zone");
  CHECK(all.dns_delegation->ttl == 60);
  CHECK(all.dns_delegation->reload_command ==
        std::vector<std::string>{"/usr/sbin/rndc", "reload", "0.0.2.f.8.b.d.0.1.0.0.2.ip6.arpa"});
  CHECK(parse(insert_at(11, "dns delegation ttl 604800\ndns delegation file d.zone")).dns_delegation->ttl == 604800);

  check_error(with_top("dns delegation ttl 600"), 12, {"'dns delegation ttl'", "dns delegation file PATH"});
  check_error(with_top("dns delegation reload rndc reload"), 12, {"need the file"});
  check_error(insert_at(11, "dns delegation file d.zone\ndns delegation ttl 59"), 13,
              {"dns delegation ttl '59' is out of range (60..604800)"});
  check_error(insert_at(11, "dns delegation file d.zone\ndns delegation file e.zone"), 13, {"dns delegation file"});
  check_error(with_top("dns delegation file"), 12, {"PATH"});
}

TEST_CASE("config/tspbrokerd.conf loads and documents the defaults it shows") {
  const std::string path = std::string(TSP_SOURCE_DIR) + "/config/tspbrokerd.conf";
  const auto c = load_config_file(path);
  CHECK(c.file == path);
  CHECK(c.pools.size() == 3);
  CHECK(c.tsp().address == v4("192.0.2.1"));
  CHECK(c.tsp().udp_port == 3653);
  CHECK(c.tsp().tcp_port == 3653);
  CHECK(c.tsp().auth == std::vector{AuthMechanism::ScramSha256, AuthMechanism::DigestMd5, AuthMechanism::Plain, AuthMechanism::Anonymous});
  CHECK(c.tunnel_server().ipv6_address == v6("2001:db8:f001:1::1"));
  CHECK(c.tunnel_server().prefix_pools == std::vector<std::string>{"P_Sites48", "P_Sites64"});
  CHECK(c.tunnel_server().dns_server == v6("2001:db8::53"));
  CHECK(c.store.sqlite_path == "/var/lib/tspbroker/tspbroker.db");
  CHECK(c.max_tunnels == 100000);
  CHECK(c.log_level == "info");
  CHECK_FALSE(c.log_target.syslog);
  CHECK(c.admin.socket_path == "/run/tspbroker/tspbrokerd.sock");
  REQUIRE(c.metrics);
  CHECK(c.metrics->port == 9653);
  CHECK(c.tunnel_server().quarantine == 3600);
}

TEST_CASE("the embedded default is a loopback broker with documentation pools") {
  const auto c = parse_config(embedded_default_config(), "(built-in)");
  CHECK(c.tsp().address == v4("127.0.0.1"));
  CHECK(c.tsp().udp_port == 3653);
  CHECK(c.tsp().tcp_port == 3653);
  CHECK(c.tsp().auth == std::vector{AuthMechanism::ScramSha256, AuthMechanism::DigestMd5, AuthMechanism::Plain,
                                    AuthMechanism::Anonymous});
  const auto& server = c.tunnel_server();
  CHECK(server.address == v4("127.0.0.1"));
  const auto* endpoints = c.find_pool(server.endpoint_pool);
  REQUIRE(endpoints);
  CHECK(endpoints->range.len == 64);
  CHECK(endpoints->block_len == 128);
  REQUIRE(server.prefix_pools.size() == 2);
  const auto* p48 = c.find_pool(server.prefix_pools[0]);
  const auto* p64 = c.find_pool(server.prefix_pools[1]);
  REQUIRE(p48);
  REQUIRE(p64);
  CHECK(p48->range.to_string() == "2001:db8:f100::/40");
  CHECK(p48->block_len == 48);
  CHECK(p64->range.to_string() == "2001:db8:f200::/48");
  CHECK(p64->block_len == 64);
  CHECK(c.store.sqlite_path == "tspbroker.db");
}

TEST_CASE("an unreadable file is reported at line 0 with the system's reason") {
  try {
    load_config_file("/nonexistent/tspbrokerd.conf");
    FAIL("no ConfigError thrown");
  } catch (const ConfigError& e) {
    CHECK(e.line() == 0);
    CHECK(e.file() == "/nonexistent/tspbrokerd.conf");
    CHECK(e.reason().find("No such file or directory") != std::string::npos);
    CHECK(std::string(e.what()) == "/nonexistent/tspbrokerd.conf: " + e.reason());
  }
}

// ---- errors: pools -------------------------------------------------------------------------

TEST_CASE("pool prefixes must be valid, without host bits") {
  check_error(with_top("ipv6 local pool P_X 2001:db8:1::1/64 128"), 12,
              {"host bits", "did you mean 2001:db8:1::/64?"});
  check_error(with_top("ipv6 local pool P_X 2001:db8:1::/129 128"), 12, {"prefix length", "out of range"});
  check_error(with_top("ipv6 local pool P_X 2001:db8:1:: 128"), 12, {"not an IPv6 prefix", "/LENGTH is missing"});
  check_error(with_top("ipv6 local pool P_X 2001:zz8::/48 64"), 12, {"'2001:zz8::/48' is not an IPv6 prefix"});
  check_error(with_top("ipv6 local pool P_X 2001:db8:1::/0048 64"), 12, {"not an IPv6 prefix"});
}

TEST_CASE("pool block lengths must fit the prefix") {
  check_error(with_top("ipv6 local pool P_X 2001:db8:1::/48 32"), 12, {"blocks of /32 do not fit in 2001:db8:1::/48"});
  check_error(with_top("ipv6 local pool P_X 2001:db8:1::/48 129"), 12, {"block length", "out of range (1..128)"});
  check_error(with_top("ipv6 local pool P_X 2001:db8:1::/48 sixty"), 12, {"block length", "whole number", "'sixty'"});
}

TEST_CASE("pool names are unique and pools do not overlap") {
  check_error(with_top("ipv6 local pool P_Sites48 2001:db8:1::/48 64"), 12,
              {"duplicate pool 'P_Sites48'", "line 2"});
  check_error(with_top("ipv6 local pool P_X 2001:db8:f100:100::/56 64"), 12,
              {"overlaps pool 'P_Sites48'", "2001:db8:f100::/41"});
  check_error(with_top("ipv6 local pool P/X 2001:db8:1::/48 64"), 12, {"pool name 'P/X'", "letters, digits"});
}

TEST_CASE("pools referenced by a tunnel server must exist") {
  check_error(with_server("  ipv6 pool prefix P_Foo"), 9,
              {"unknown pool 'P_Foo' (define it with 'ipv6 local pool P_Foo PREFIX BLOCK-LENGTH')"});
  auto text = minimal();
  text.replace(text.find("endpoints P_Interco"), 19, "endpoints P_Nope");
  check_error(text, 8, {"unknown pool 'P_Nope'"});
}

TEST_CASE("the endpoints pool hands out /128 addresses and has room for clients") {
  auto text = minimal();
  text.replace(text.find("endpoints P_Interco"), 19, "endpoints P_Sites48");
  check_error(text, 8, {"pool 'P_Sites48' hands out /48 blocks", "endpoints pool", "128"});
  auto tiny = insert_at(0, "ipv6 local pool P_Tiny 2001:db8:9::/127 128");
  tiny.replace(tiny.find("endpoints P_Interco"), 19, "endpoints P_Tiny");
  check_error(tiny, 9, {"endpoints pool 'P_Tiny' (2001:db8:9::/127) is too small", "/126"});
}

TEST_CASE("prefix pools hand out /64 or shorter, one pool per block length, each once") {
  check_error(with_server("  ipv6 pool prefix P_Interco"), 9,
              {"pool 'P_Interco' hands out /128 blocks", "/64 or shorter", "ipv6 pool endpoints"});
  const auto two48 = lines({
      "ipv6 local pool P_Interco 2001:db8:f001:1::/64 128",
      "ipv6 local pool P_A 2001:db8:a::/47 48",
      "ipv6 local pool P_B 2001:db8:c::/47 48",
      "tsp T",
      "  ip address 192.0.2.1",
      "  transport udp 3653",
      "tunnel server S",
      "  ip address 192.0.2.1",
      "  ipv6 pool endpoints P_Interco",
      "  ipv6 pool prefix P_A",
      "  ipv6 pool prefix P_B",
      "tunnel broker B",
      "  set tsp T",
      "  set tunnel server S",
  });
  check_error(two48, 11, {"pools 'P_A' and 'P_B' both hand out /48 blocks", "one prefix pool per length"});
  auto twice = with_server("  ipv6 pool prefix P_Sites48");
  twice = twice.insert(twice.find("tunnel broker"), "  ipv6 pool prefix P_Sites48\n");
  check_error(twice, 10, {"pool 'P_Sites48' is already a prefix pool", "line 9"});
}

TEST_CASE("the server's ipv6 address lies in the endpoints pool and is not its anycast address") {
  check_error(with_server("  ipv6 address 2001:db8::1"), 9,
              {"ipv6 address 2001:db8::1 is outside the endpoints pool 'P_Interco' (2001:db8:f001:1::/64)"});
  check_error(with_server("  ipv6 address 2001:db8:f001:1::"), 9,
              {"subnet-router anycast", "2001:db8:f001:1::1"});
  check_error(with_server("  ipv6 address 192.0.2.1"), 9, {"'192.0.2.1' is not an IPv6 address"});
  check_error(with_server("  ipv6 address ff02::1"), 9, {"ff02::1 is not a unicast IPv6 address"});
  check_error(with_server("  ipv6 dns-server ::"), 9, {":: is not a unicast IPv6 address"});
  check_error(with_server("  ipv6 dns-server dns.example.net"), 9, {"not an IPv6 address"});
}

// ---- errors: numbers -----------------------------------------------------------------------

TEST_CASE("ports are 1..65535") {
  check_error(with_tsp("  transport tcp 0"), 6, {"port '0' is out of range (1..65535)"});
  check_error(with_tsp("  transport tcp 65536"), 6, {"port '65536' is out of range (1..65535)"});
  check_error(with_tsp("  transport tcp http"), 6, {"port must be a whole number", "'http'"});
  check_error(with_tsp("  transport tcp -1"), 6, {"port must be a whole number", "'-1'"});
}

TEST_CASE("numbers out of range or not numbers name the statement and its range") {
  check_error(with_tsp("  keepalive interval 4"), 6, {"keepalive interval '4' is out of range (5..3600)"});
  check_error(with_tsp("  keepalive interval 3601"), 6, {"keepalive interval", "(5..3600)"});
  check_error(with_tsp("  keepalive missed 0"), 6, {"keepalive missed '0' is out of range (1..100)"});
  check_error(with_tsp("  keepalive missed 101"), 6, {"keepalive missed", "(1..100)"});
  check_error(with_tsp("  max sessions 0"), 6, {"max sessions '0' is out of range"});
  check_error(with_tsp("  max sessions per-address 1000001"), 6,
              {"max sessions per-address '1000001' is out of range (0..1000000)"});
  check_error(with_tsp("  max sessions per-address"), 6, {"max sessions per-address"});
  check_error(with_top("limit anonymous per-address 16777217"), 12,
              {"limit anonymous per-address '16777217' is out of range (0..16777216)"});
  check_error(with_top("history keep 36501"), 12, {"history keep (days) '36501' is out of range (0..36500)"});
  check_error(with_top("history keep forever"), 12, {"history keep (days) must be a whole number"});
  check_error(with_tsp("  session timeout 4"), 6, {"session timeout '4' is out of range (5..3600)"});
  check_error(with_tsp("  session timeout 1m"), 6, {"session timeout must be a whole number", "'1m'"});
  check_error(with_tsp("  lockout failures 1001"), 6, {"lockout failures '1001' is out of range (0..1000)"});
  check_error(with_tsp("  lockout window 0"), 6, {"lockout window '0' is out of range (1..86400)"});
  check_error(with_tsp("  lockout duration 86401"), 6, {"lockout duration '86401' is out of range (1..86400)"});
  check_error(with_tsp("  lockout user-failures 100001"), 6,
              {"lockout user-failures '100001' is out of range (0..100000)"});
  check_error(with_tsp("  lockout user-window 0"), 6, {"lockout user-window '0' is out of range (1..604800)"});
  check_error(with_tsp("  lockout save-interval 86401"), 6,
              {"lockout save-interval '86401' is out of range (0..86400)"});
  check_error(with_server("  mtu 1279"), 9, {"mtu '1279' is out of range (1280..9000)"});
  check_error(with_server("  mtu 9001"), 9, {"mtu '9001' is out of range (1280..9000)"});
  check_error(with_server("  lifetime 0"), 9, {"lifetime '0' is out of range"});
  check_error(with_server("  lifetime 4294967296"), 9, {"lifetime '4294967296' is out of range"});
  check_error(with_server("  lifetime 99999999999999999999999999"), 9, {"lifetime", "out of range"});
  check_error(with_top("limit tunnels 0"), 12, {"limit tunnels '0' is out of range (1..16777216)"});
  check_error(with_top("limit tunnels 16777217"), 12, {"limit tunnels", "(1..16777216)"});
  check_error(with_top("limit tunnels +5"), 12, {"limit tunnels must be a whole number", "'+5'"});
  check_error(with_top("limit tunnels 1e3"), 12, {"whole number"});
}

// ---- errors: required statements and references ---------------------------------------------

TEST_CASE("a tsp needs an address and a transport") {
  auto no_address = minimal();
  no_address.erase(no_address.find("  ip address 192.0.2.1\n"), 23);
  check_error(no_address, 3, {"tsp 'TSP_Main' has no 'ip address'"});
  auto no_transport = minimal();
  no_transport.erase(no_transport.find("  transport udp 3653\n"), 21);
  check_error(no_transport, 3, {"tsp 'TSP_Main' has no transport", "transport udp 3653"});
}

TEST_CASE("a tunnel server needs an address and an endpoints pool") {
  auto v = minimal_lines();
  v.erase(v.begin() + 6);  // its ip address
  check_error(join(v), 6, {"tunnel server 'TS_Main' has no 'ip address'"});
  v = minimal_lines();
  v.erase(v.begin() + 7);  // its endpoints pool
  check_error(join(v), 6, {"tunnel server 'TS_Main' has no endpoints pool", "ipv6 pool endpoints"});
}

TEST_CASE("the tunnel broker needs a tsp and a tunnel server that exist") {
  auto v = minimal_lines();
  v.erase(v.begin() + 9);  // set tsp
  check_error(join(v), 9, {"tunnel broker 'TB_Main' has no 'set tsp'"});
  v = minimal_lines();
  v.erase(v.begin() + 10);  // set tunnel server
  check_error(join(v), 9, {"tunnel broker 'TB_Main' has no 'set tunnel server'"});
  v = minimal_lines();
  v[9] = "  set tsp TSP_Other";
  check_error(join(v), 10, {"unknown tsp 'TSP_Other' (define it with a 'tsp TSP_Other' block)"});
  v = minimal_lines();
  v[10] = "  set tunnel server TS_Other";
  check_error(join(v), 11, {"unknown tunnel server 'TS_Other'", "'tunnel server TS_Other' block"});
}

TEST_CASE("exactly one tunnel broker") {
  check_error(lines({"ipv6 local pool P 2001:db8::/64 128"}), 0, {"no tunnel broker defined", "tunnel broker NAME"});
  check_error("", 0, {"no tunnel broker defined"});
  check_error("# only a comment\n\n", 0, {"no tunnel broker defined"});
  check_error(with_top("tunnel broker TB_Second"), 12,
              {"more than one tunnel broker", "'TB_Main' is already defined at line 9"});
}

TEST_CASE("block names are unique per kind of block") {
  auto v = minimal_lines();
  v.insert(v.begin() + 5, {"tsp TSP_Main", "  ip address 192.0.2.9", "  transport tcp 1"});
  check_error(join(v), 6, {"duplicate tsp 'TSP_Main' (already defined at line 3)"});
  check_error(with_top("tunnel server TS_Main"), 12, {"duplicate tunnel server 'TS_Main'", "line 6"});
  check_error(with_top("tsp T*"), 12, {"tsp name 'T*' may only contain"});
}

// ---- errors: statements --------------------------------------------------------------------

TEST_CASE("unknown statements say what the context accepts") {
  check_error(with_top("frobnicate yes"), 12, {"unknown statement 'frobnicate'", "top level accepts", "'ipv6 local pool'"});
  check_error(with_tsp("  frobnicate yes"), 6, {"unknown statement 'frobnicate'", "tsp block accepts", "'realm'"});
  check_error(with_tsp("  transport sctp 3653"), 6,
              {"unknown statement 'transport sctp': after 'transport' comes udp or tcp"});
  check_error(with_tsp("  transport"), 6, {"incomplete statement 'transport': udp or tcp must follow"});
  check_error(with_top("tunnel"), 12, {"incomplete statement 'tunnel': server or broker must follow"});
  check_error(with_server("  ipv6 pool foo P_Interco"), 9, {"after 'ipv6 pool' comes endpoints or prefix"});
}

TEST_CASE("statements written in the wrong place say where they belong") {
  check_error(lines({"  ip address 192.0.2.1"}), 1, {"indented line outside any block"});
  check_error(insert_at(1, "  ipv6 local pool P_X 2001:db8:9::/48 64"), 2, {"indented line outside any block"});
  check_error(with_top("ip address 192.0.2.1"), 12,
              {"'ip address' belongs inside a 'tsp' or 'tunnel server' block", "indent it"});
  check_error(with_top("mtu 1400"), 12, {"'mtu' belongs inside a 'tunnel server' block"});
  check_error(with_tsp("  store sqlite x.db"), 6, {"'store sqlite' is a top-level statement: remove its indentation"});
  check_error(with_tsp("  tsp Other"), 6, {"'tsp' is a top-level statement"});
  check_error(with_tsp("  set tsp TSP_Main"), 6,
              {"'set tsp' belongs in a 'tunnel broker' block, not in a 'tsp' block"});
  check_error(with_tsp("  ipv6 pool prefix P_Sites48"), 6, {"belongs in a 'tunnel server' block"});
}

TEST_CASE("missing and extra arguments show the statement's usage") {
  check_error(with_top("ipv6 local pool P_X 2001:db8:9::/48"), 12,
              {"missing argument for 'ipv6 local pool'", "usage: 'ipv6 local pool NAME PREFIX BLOCK-LENGTH'"});
  check_error(with_tsp("  ip address"), 6, {"missing argument for 'ip address'"});
  check_error(with_tsp("  authentication"), 6, {"missing argument for 'authentication'", "MECHANISM..."});
  check_error(with_top("tsp"), 12, {"missing argument for 'tsp'", "usage: 'tsp NAME'"});
  check_error(with_tsp("  transport udp 3653 3654"), 6,
              {"too many arguments for 'transport udp': unexpected '3654'", "usage: 'transport udp PORT'"});
  check_error(with_top("tunnel server A B"), 12, {"too many arguments for 'tunnel server'"});
  check_error(with_server("  mtu 1400 # jumbo later"), 9, {"comments must be on a line of their own"});
}

TEST_CASE("a statement that sets one thing may not be repeated") {
  check_error(with_tsp("  ip address 192.0.2.7"), 6, {"'ip address' may appear only once per block (already at line 4)"});
  check_error(with_tsp("  transport udp 3654"), 6, {"'transport udp' may appear only once per block (already at line 5)"});
  check_error(with_broker("  set tsp TSP_Main"), 12, {"'set tsp' may appear only once per block (already at line 10)"});
  check_error(with_top("store sqlite a.db") + "store sqlite b.db\n", 13, {"'store sqlite' may appear only once (already at line 12)"});
  check_error(with_top("log level info") + "log level debug\n", 13, {"'log level' may appear only once"});
  // The same statement in two different blocks is fine.
  CHECK(parse(minimal()).tunnel_server().address == v4("192.0.2.1"));
}

// `address` written as the tsp's "ip address" (line 4).
std::string with_tsp_address(std::string_view address) {
  auto v = minimal_lines();
  v[3] = "  ip address " + std::string(address);
  return join(v);
}

TEST_CASE("IPv4 addresses must be unicast addresses") {
  check_error(with_tsp_address("192.0.2"), 4, {"'192.0.2' is not an IPv4 address"});
  check_error(with_tsp_address("192.0.2.256"), 4, {"not an IPv4 address"});
  check_error(with_tsp_address("2001:db8::1"), 4, {"not an IPv4 address"});
  check_error(with_tsp_address("0.0.0.0"), 4, {"0.0.0.0 is not a unicast IPv4 address"});
  check_error(with_tsp_address("255.255.255.255"), 4, {"not a unicast IPv4 address"});
  check_error(with_tsp_address("224.0.0.1"), 4, {"not a unicast IPv4 address"});
  CHECK(parse(with_tsp_address("127.0.0.1")).tsp().address == v4("127.0.0.1"));
  check_error(with_server("  ip address 10.0.0.1"), 9, {"'ip address' may appear only once per block (already at line 7)"});
}

TEST_CASE("authentication mechanisms are known ones, each listed once") {
  check_error(with_tsp("  authentication plain kerberos"), 6,
              {"unknown authentication mechanism 'kerberos'", "anonymous, plain, digest-md5 or scram-sha-256"});
  check_error(with_tsp("  authentication plain PLAIN"), 6, {"'plain' is listed twice (also at line 6)"});
  auto two_lines = with_tsp("  authentication plain");
  two_lines.insert(two_lines.find("tunnel server"), "  authentication anonymous plain\n");
  check_error(two_lines, 7, {"'plain' is listed twice (also at line 6)"});
}

TEST_CASE("the realm fits in a DIGEST-MD5 challenge") {
  check_error(with_tsp("  realm a,b"), 6, {"realm 'a,b'", "without '\"', '\\' or ','"});
  check_error(with_tsp("  realm \"tsp\""), 6, {"realm"});
  check_error(with_tsp("  realm " + std::string(129, 'r')), 6, {"at most 128"});
  check_error(with_tsp("  realm caf\xC3\xA9"), 6, {"printable ASCII"});
}

TEST_CASE("log levels are the five known ones") {
  check_error(with_top("log level verbose"), 12, {"unknown log level 'verbose'", "trace, debug, info, warning or error"});
  CHECK(parse(with_top("log level TRACE")).log_level == "trace");
  CHECK(parse(with_top("log level error")).log_level == "error");
}

TEST_CASE("log target: stderr by default, or syslog with a facility, not both") {
  CHECK_FALSE(parse(minimal()).log_target.syslog);
  CHECK_FALSE(parse(with_top("log stderr")).log_target.syslog);
  const auto c = parse(with_top("log syslog"));
  CHECK(c.log_target.syslog);
  CHECK(c.log_target.facility == "daemon");
  CHECK(parse(with_top("log syslog LOCAL3")).log_target.facility == "local3");
  check_error(with_top("log syslog kern"), 12, {"unknown syslog facility 'kern'", "local0 to local7"});
  check_error(insert_at(11, "log stderr\nlog syslog"), 13, {"already set at line 12"});
}

TEST_CASE("admin socket and group: defaults, values and limits") {
  const auto d = parse(minimal());
  CHECK(d.admin.socket_path == "tspbrokerd.sock");
  CHECK_FALSE(d.admin.group);
  const auto c = parse(insert_at(11, "admin socket /run/tspbroker/ctl.sock\nadmin group tspadmin"));
  CHECK(c.admin.socket_path == "/run/tspbroker/ctl.sock");
  REQUIRE(c.admin.group);
  CHECK(*c.admin.group == "tspadmin");
  check_error(with_top("admin socket /" + std::string(120, 'x')), 12, {"longer than 107 bytes"});
  check_error(with_top("admin group bad/name"), 12, {"admin group"});
}

TEST_CASE("metrics: off by default, an IPv4 address and port, per-tunnel series on request") {
  CHECK_FALSE(parse(minimal()).metrics);
  const auto c = parse(with_top("metrics listen 0.0.0.0 9653"));
  REQUIRE(c.metrics);
  CHECK(c.metrics->address == v4("0.0.0.0"));
  CHECK(c.metrics->port == 9653);
  CHECK_FALSE(c.metrics->per_tunnel);
  CHECK(parse(insert_at(11, "metrics per-tunnel\nmetrics listen 127.0.0.1 9100")).metrics->per_tunnel);
  check_error(with_top("metrics per-tunnel"), 12, {"'metrics listen IPV4-ADDRESS PORT'"});
  check_error(with_top("metrics listen ::1 9653"), 12, {"not an IPv4 address"});
  check_error(with_top("metrics listen 127.0.0.1 0"), 12, {"port"});
}

TEST_CASE("quarantine: one hour by default, 0 to one year") {
  CHECK(parse(minimal()).tunnel_server().quarantine == 3600);
  CHECK(parse(with_server("  quarantine 0")).tunnel_server().quarantine == 0);
  CHECK(parse(with_server("  quarantine 86400")).tunnel_server().quarantine == 86400);
  check_error(with_server("  quarantine 31536001"), 9, {"quarantine", "31536000"});
}

TEST_CASE("redirect brokers must be addresses or DNS names, each once, at most 50") {
  check_error(with_broker("  redirect broker 999.1.1.1"), 12,
              {"redirect broker '999.1.1.1' is not an IPv4 address, an IPv6 address or a DNS name"});
  check_error(with_broker("  redirect broker bad_name.example"), 12, {"not an IPv4 address, an IPv6 address or a DNS name"});
  check_error(with_broker("  redirect broker -bad.example"), 12, {"DNS name"});
  check_error(with_broker("  redirect broker a..b"), 12, {"DNS name"});
  check_error(with_broker("  redirect broker " + std::string(64, 'a') + ".example"), 12, {"DNS name"});
  check_error(with_broker("  redirect broker 198.51.100.9") + "  redirect broker 198.51.100.9\n", 13,
              {"redirect broker '198.51.100.9' is listed twice"});
  std::string many = minimal();
  for (int i = 1; i <= 51; ++i) many += "  redirect broker 198.51.100." + std::to_string(i) + "\n";
  check_error(many, 62, {"more than 50 redirect brokers"});
}

TEST_CASE("a file that is not text is refused at the line where it stops being text") {
  check_error(with_tsp(std::string("  realm a\0b", 11)), 6, {"invalid control character (byte 0x00)", "plain text"});
  check_error(with_top("log level info\rlog level debug"), 12, {"byte 0x0d"});
  check_error(std::string(17 * 1024 * 1024, '#'), 0, {"larger than 16 MiB"});
}

// ---- the dataplane block -------------------------------------------------------------------

namespace {

// The minimal config with a dataplane block from line 12 on, the block's lines given.
std::string with_dataplane(const std::vector<std::string>& block_lines) {
  std::string text = minimal() + "dataplane\n";
  for (const auto& l : block_lines) text += l + "\n";
  return text;
}

// The four statements a dataplane block needs (lines 13..16).
std::vector<std::string> required_dataplane_lines() {
  return {
      "  port ipv4 net_af_packet0",
      "  port ipv6 net_af_packet1",
      "  ipv4 address 192.0.2.1/24",
      "  ipv6 address 2001:db8:ffff::1/64",
  };
}

std::string with_dataplane_plus(std::string_view extra) {
  return with_dataplane(required_dataplane_lines()) + std::string(extra) + "\n";  // line 17
}

}  // namespace

TEST_CASE("without a dataplane block the broker has no dataplane") {
  CHECK_FALSE(parse(minimal()).dataplane);
}

TEST_CASE("a dataplane block with the brief's example statements") {
  const auto c = parse(with_dataplane({
      "  eal --no-huge -m 256 --vdev net_af_packet0,iface=veth-b4",  // 13
      "  eal --vdev net_af_packet1,iface=veth-b6",
      "  port ipv4 net_af_packet0",
      "  port ipv6 net_af_packet1",
      "  workers 2",
      "  ipv4 address 192.0.2.1/24",
      "  ipv4 gateway 192.0.2.254",
      "  ipv6 address 2001:db8:ffff::1/64",
      "  ipv6 gateway 2001:db8:ffff::fffe",
      "  tap ipv4 b-v4",
      "  tap ipv6 b-v6",
  }));
  REQUIRE(c.dataplane);
  const auto& d = *c.dataplane;
  CHECK(d.line == 12);
  CHECK(d.eal_args == std::vector<std::string>{"--no-huge", "-m", "256", "--vdev", "net_af_packet0,iface=veth-b4",
                                               "--vdev", "net_af_packet1,iface=veth-b6"});
  CHECK(d.ipv4_port == "net_af_packet0");
  CHECK(d.ipv6_port == "net_af_packet1");
  CHECK(d.workers == 2);
  CHECK(d.ipv4_address == v4("192.0.2.1"));
  CHECK(d.ipv4_prefix_len == 24);
  CHECK(d.ipv4_gateway == v4("192.0.2.254"));
  CHECK(d.ipv6_address == v6("2001:db8:ffff::1"));
  CHECK(d.ipv6_prefix_len == 64);
  CHECK(d.ipv6_gateway == v6("2001:db8:ffff::fffe"));
  CHECK(d.ipv4_tap == "b-v4");
  CHECK(d.ipv6_tap == "b-v6");
}

TEST_CASE("dataplane defaults: no EAL arguments, one worker, no gateways, taps tsp-v4 and tsp-v6") {
  const auto c = parse(with_dataplane(required_dataplane_lines()));
  REQUIRE(c.dataplane);
  const auto& d = *c.dataplane;
  CHECK(d.eal_args.empty());
  CHECK(d.workers == 1);
  CHECK_FALSE(d.ipv4_gateway);
  CHECK_FALSE(d.ipv6_gateway);
  CHECK(d.ipv4_tap == "tsp-v4");
  CHECK(d.ipv6_tap == "tsp-v6");
  // PCI addresses are device names too; a link-local IPv6 gateway is on-link by definition.
  const auto pci = parse(with_dataplane({"  port ipv4 0000:03:00.0", "  port ipv6 0000:03:00.1",
                                         "  ipv4 address 192.0.2.1/32", "  ipv6 address 2001:db8::1/128",
                                         "  ipv6 gateway fe80::1"}));
  CHECK(pci.dataplane->ipv4_port == "0000:03:00.0");
  CHECK(pci.dataplane->ipv4_prefix_len == 32);
  CHECK(pci.dataplane->ipv6_gateway == v6("fe80::1"));
}

TEST_CASE("a dataplane block needs both ports and both addresses") {
  check_error(with_dataplane({"  port ipv6 p1", "  ipv4 address 192.0.2.1/24", "  ipv6 address 2001:db8::1/64"}), 12,
              {"the dataplane block has no 'port ipv4'", "port ipv4 DEVICE"});
  check_error(with_dataplane({"  port ipv4 p0", "  ipv4 address 192.0.2.1/24", "  ipv6 address 2001:db8::1/64"}), 12,
              {"no 'port ipv6'"});
  check_error(with_dataplane({"  port ipv4 p0", "  port ipv6 p1", "  ipv6 address 2001:db8::1/64"}), 12,
              {"no 'ipv4 address'", "IPV4-ADDRESS/LENGTH"});
  check_error(with_dataplane({"  port ipv4 p0", "  port ipv6 p1", "  ipv4 address 192.0.2.1/24"}), 12,
              {"no 'ipv6 address'"});
  check_error(minimal() + "dataplane\n", 12, {"no 'port ipv4'"});
}

TEST_CASE("dataplane ports and taps differ, and names fit DPDK and Linux") {
  check_error(with_dataplane({"  port ipv4 p0", "  port ipv6 p0", "  ipv4 address 192.0.2.1/24",
                              "  ipv6 address 2001:db8::1/64"}),
              14, {"port ipv6 'p0' is also the ipv4 port (line 13)"});
  check_error(with_dataplane_plus("  tap ipv6 tsp-v4"), 17, {"tap ipv4 and tap ipv6 are both 'tsp-v4'"});
  check_error(with_dataplane_plus("  tap ipv4 tsp-v6"), 17, {"both 'tsp-v6'"});
  check_error(with_dataplane_plus("  tap ipv4 a-name-of-16-chars"), 17, {"longer than 15 characters"});
  check_error(with_dataplane_plus("  tap ipv4 bad/name"), 17, {"tap interface name 'bad/name'"});
  check_error(with_dataplane({"  port ipv4 net_ring0,nodeaction=x"}), 13, {"DPDK device name", "e.g. net_af_packet0"});
  check_error(with_dataplane({"  port ipv4 " + std::string(64, 'p')}), 13, {"at most 63"});
}

TEST_CASE("dataplane addresses carry their prefix length and the tunnel server's address") {
  check_error(with_dataplane({"  ipv4 address 192.0.2.1"}), 13, {"needs its prefix length (e.g. 192.0.2.1/24)"});
  check_error(with_dataplane({"  ipv4 address 192.0.2.1/33"}), 13, {"IPv4 prefix length '33' is out of range (1..32)"});
  check_error(with_dataplane({"  ipv4 address 192.0.2.1/0"}), 13, {"out of range"});
  check_error(with_dataplane({"  ipv4 address 224.0.0.1/24"}), 13, {"not a unicast IPv4 address"});
  check_error(with_dataplane({"  ipv6 address 2001:db8::1"}), 13, {"needs its prefix length (e.g. 2001:db8:ffff::1/64)"});
  check_error(with_dataplane({"  ipv6 address 2001:db8::1/129"}), 13, {"out of range (1..128)"});
  check_error(with_dataplane({"  ipv6 address fe80::1/64"}), 13, {"link-local", "global"});
  check_error(with_dataplane({"  ipv6 address ff02::1/64"}), 13, {"not a unicast IPv6 address"});
  check_error(with_dataplane({"  port ipv4 p0", "  port ipv6 p1", "  ipv4 address 192.0.2.9/24",
                              "  ipv6 address 2001:db8::1/64"}),
              15, {"dataplane ipv4 address 192.0.2.9 differs from the ip address of tunnel server 'TS_Main'",
                   "192.0.2.1, line 6"});
}

TEST_CASE("dataplane gateways are on the tap's subnet") {
  check_error(with_dataplane_plus("  ipv4 gateway 198.51.100.1"), 17,
              {"ipv4 gateway 198.51.100.1 is not on the ipv4 address's subnet (192.0.2.1/24)"});
  check_error(with_dataplane_plus("  ipv4 gateway 192.0.2.1"), 17, {"the broker's own address"});
  check_error(with_dataplane_plus("  ipv4 gateway 0.0.0.0"), 17, {"not a unicast IPv4 address"});
  check_error(with_dataplane_plus("  ipv6 gateway 2001:db8:eeee::1"), 17,
              {"neither link-local nor on the ipv6 address's subnet (2001:db8:ffff::/64)"});
  check_error(with_dataplane_plus("  ipv6 gateway 2001:db8:ffff::1"), 17, {"the broker's own address"});
  CHECK(parse(with_dataplane_plus("  ipv4 gateway 192.0.2.254")).dataplane->ipv4_gateway == v4("192.0.2.254"));
}

TEST_CASE("dataplane statements: workers range, repetition and placement") {
  check_error(with_dataplane_plus("  workers 0"), 17, {"workers '0' is out of range (1..127)"});
  check_error(with_dataplane_plus("  workers 128"), 17, {"out of range (1..127)"});
  CHECK(parse(with_dataplane_plus("  workers 127")).dataplane->workers == 127);
  check_error(with_dataplane_plus("  port ipv4 p9"), 17, {"'port ipv4' may appear only once per block (already at line 13)"});
  check_error(with_dataplane_plus("  eal"), 17, {"missing argument for 'eal'", "eal ARGUMENT..."});
  check_error(with_dataplane_plus("dataplane"), 17, {"'dataplane' may appear only once (already at line 12)"});
  check_error(with_dataplane_plus("  frobnicate"), 17, {"unknown statement 'frobnicate'", "dataplane block accepts"});
  check_error(with_top("port ipv4 p0"), 12, {"'port ipv4' belongs inside a 'dataplane' block"});
  check_error(with_tsp("  workers 2"), 6, {"'workers' belongs in a 'dataplane' block, not in a 'tsp' block"});
  check_error(with_dataplane({"  ip address 192.0.2.1"}), 13, {"belongs in a 'tsp' or 'tunnel server' block"});
  check_error(with_dataplane({"  dataplane"}), 13, {"'dataplane' is a top-level statement"});
}

TEST_CASE("dataplane exception limits: per class, a default burst, 0 for none, mistakes at their line") {
  const auto defaults = parse(with_dataplane(required_dataplane_lines()));
  for (unsigned c = 0; c < tsp::dp::kExceptionLimitCount; ++c)
    CHECK(defaults.dataplane->exception_limits[c] == tsp::dp::kDefaultExceptionLimits[c]);
  CHECK(defaults.dataplane->exception_limits[tsp::dp::kTspSourceLimit] == tsp::dp::ExceptionLimit{1000, 1000});
  const auto c = parse(with_dataplane_plus("  exception limit other 200 50\n  exception limit tsp 0\n"
                                           "  exception limit neighbor 25\n  exception limit other 300"));
  const auto& l = c.dataplane->exception_limits;
  CHECK(l[2] == tsp::dp::ExceptionLimit{300, 30});  // the last line of a class counts; burst a tenth
  CHECK(l[1] == tsp::dp::ExceptionLimit{0, 0});
  CHECK(l[0] == tsp::dp::ExceptionLimit{25, 2});
  CHECK(parse(with_dataplane_plus("  exception limit other 5")).dataplane->exception_limits[2] ==
        tsp::dp::ExceptionLimit{5, 1});
  // One source's share of TSP: a limit of its own, beside the class's.
  const auto s = parse(with_dataplane_plus("  exception limit tsp-source 50\n  exception limit tsp 500 100"));
  CHECK(s.dataplane->exception_limits[tsp::dp::kTspSourceLimit] == tsp::dp::ExceptionLimit{50, 5});
  CHECK(s.dataplane->exception_limits[1] == tsp::dp::ExceptionLimit{500, 100});
  CHECK(parse(with_dataplane_plus("  exception limit tsp-source 0")).dataplane->exception_limits[tsp::dp::kTspSourceLimit] ==
        tsp::dp::ExceptionLimit{0, 0});
  check_error(with_dataplane_plus("  exception limit tsp-source 0 10"), 17, {"a burst needs a rate"});
  check_error(with_dataplane_plus("  exception limit icmp 100"), 17, {"exception class 'icmp'", "neighbor, tsp, other, tsp-source"});
  check_error(with_dataplane_plus("  exception limit other lots"), 17, {"frames per second must be a whole number in 0..100000000, not 'lots'"});
  check_error(with_dataplane_plus("  exception limit other 100000001"), 17, {"out of range (0..100000000)"});
  check_error(with_dataplane_plus("  exception limit other 100 0"), 17, {"burst '0' is out of range"});
  check_error(with_dataplane_plus("  exception limit other 0 10"), 17, {"a burst needs a rate"});
  check_error(with_dataplane_plus("  exception limit other"), 17, {"exception limit neighbor|tsp|other|tsp-source RATE [BURST]"});
  check_error(with_tsp("  exception limit other 5"), 6, {"belongs in a 'dataplane' block"});
}

TEST_CASE("config/tspbrokerd.conf's commented dataplane example parses as documented") {
  // The example's statements are the file's only lines commented out with '#'.
  const std::string path = std::string(TSP_SOURCE_DIR) + "/config/tspbrokerd.conf";
  std::ifstream in(path);
  REQUIRE(in);
  std::string text, line;
  size_t uncommented = 0;
  while (std::getline(in, line)) {
    if (!line.empty() && line.front() == '#') {
      line.erase(0, 1);
      ++uncommented;
    }
    text += line + "\n";
  }
  CHECK(uncommented >= 10);
  const auto c = parse(text);
  REQUIRE(c.dataplane);
  CHECK(c.dataplane->ipv4_address == c.tunnel_server().address);
  CHECK(c.dataplane->ipv4_port == "net_af_packet0");
  CHECK(c.dataplane->ipv6_port == "net_af_packet1");
  CHECK(c.dataplane->workers == 1);
  CHECK(c.dataplane->ipv4_gateway == v4("192.0.2.254"));
  CHECK(c.dataplane->ipv6_gateway == v6("2001:db8:ffff::fffe"));
  CHECK(c.dataplane->ipv4_tap == "tsp-v4");
  CHECK(c.dataplane->ipv6_tap == "tsp-v6");
  CHECK_FALSE(c.dataplane->eal_args.empty());
  // As shipped (commented out), the example runs without a dataplane.
  CHECK_FALSE(load_config_file(path).dataplane);
}
