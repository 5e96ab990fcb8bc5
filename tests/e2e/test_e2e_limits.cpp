// The per-source-address limits with the real daemon: `max sessions per-address` (unfinished
// TSP sessions from one IPv4 address, UDP and TCP together, refused "530 Server too busy") and
// `limit anonymous per-address` (anonymous tunnels, offered or live, held by one address,
// refused with a framed "301 No more tunnels available" unless the request takes over one of
// that address's own tunnels); both reloadable, both counted in /metrics.
#include <netinet/in.h>
#include <sys/socket.h>

#include <fstream>
#include <memory>
#include <set>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/e2e/broker_process.hpp"
#include "tests/e2e/e2e_metrics.hpp"
#include "tests/e2e/tsp_dialogs.hpp"

namespace tsp::e2e {
namespace {

using nlohmann::json;

constexpr std::string_view kBusy = "530 Server too busy\r\n";
constexpr const char* kPerAddressLimited = "tspbroker_tsp_sessions_limited_total{limit=\"per_address\"}";
constexpr const char* kAllLimited = "tspbroker_tsp_sessions_limited_total{limit=\"all\"}";
constexpr const char* kUnfinished = "tspbroker_tsp_sessions_unfinished";
constexpr const char* kSources = "tspbroker_tsp_session_sources";
constexpr const char* kSourcesAtLimit = "tspbroker_tsp_session_sources_at_limit";
constexpr const char* kRefused530 = "tspbroker_tsp_refusals_total{code=\"530\"}";
constexpr const char* kRefused301 = "tspbroker_tsp_refusals_total{code=\"301\"}";
constexpr const char* kAnonymousLimited = "tspbroker_tunnels_anonymous_limited_total";

// The framed refusal of a create request from an address at its anonymous limit.
std::string no_more_tunnels() { return content_length_frame("301 No more tunnels available\r\n"); }

std::string reject_message() { return content_length_frame("<tunnel action=\"reject\"></tunnel>\r\n"); }

// "metrics listen 127.0.0.1 PORT" on a free port.
std::string metrics_line(uint16_t port) { return "metrics listen 127.0.0.1 " + std::to_string(port); }

// The reply to a fresh VERSION= (CAPABILITY or a status line).
std::string version_reply(RudpClient& c) { return c.request(version_line("2.0.2")).payload; }

// A new UDP session from `source` that must be admitted (CAPABILITY).
std::unique_ptr<RudpClient> admitted_udp(uint16_t port, const std::string& source) {
  auto c = std::make_unique<RudpClient>(port, source);
  udp_hello(*c);
  return c;
}

// The source port the daemon sees for `c`.
uint16_t local_port(int fd) {
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0);
  return ntohs(sa.sin_port);
}

// What gogoc behind a NAT declares: a private address. The daemon sees 127.0.0.x instead and
// offers v6anyv4 as v6udpv4 on the session's own source address and port.
TunnelRequestSpec behind_nat() {
  TunnelRequestSpec spec;
  spec.client_ipv4 = "192.168.1.10";
  return spec;
}

// The same, the reply's bytes.
std::string anonymous_nat_create_bytes(RudpClient& c) {
  udp_hello(c);
  udp_login_anonymous(c);
  return c.request(create_request(behind_nat())).payload;
}

// The same, where the offer must come (v6udpv4); the session is left in "offered".
OfferFields anonymous_nat_offer(RudpClient& c) {
  udp_hello(c);
  udp_login_anonymous(c);
  const OfferFields offer = udp_create_offer(c, behind_nat());
  CHECK(offer.type == "v6udpv4");
  return offer;
}

json json_of(const CommandResult& r) {
  INFO("tspctl said: " << r.output);
  REQUIRE(r.exit_status == 0);
  return json::parse(r.output);
}

// The live anonymous tunnels whose client address is `source`: their client ports.
std::multiset<uint16_t> anonymous_ports_of(BrokerProcess& broker, const std::string& source) {
  std::multiset<uint16_t> ports;
  const json listed = json_of(broker.tspctl({"--json", "tunnels"}, ""));
  for (const json& t : listed["tunnels"])
    if (t["anonymous"] == true && t["client_ipv4"] == source) ports.insert(t["client_port"].get<uint16_t>());
  return ports;
}

// The id of the live tunnel on source:port.
uint32_t tunnel_id_of(BrokerProcess& broker, const std::string& source, uint16_t port) {
  const json listed = json_of(broker.tspctl({"--json", "tunnels"}, ""));
  for (const json& t : listed["tunnels"])
    if (t["client_ipv4"] == source && t["client_port"] == port) return t["id"].get<uint32_t>();
  FAIL("no live tunnel on " << source << ":" << port);
  return 0;
}

// Endpoint addresses in use (P_Interco, the first pool): by live tunnels and by offers not
// yet accepted; an abandoned offer's address goes back.
long long endpoints_used(BrokerProcess& broker) {
  const json pools = json_of(broker.tspctl({"--json", "pools"}, ""));
  REQUIRE(pools["pools"][0]["name"] == "P_Interco");
  return pools["pools"][0]["used"].get<long long>();
}

void write_config(BrokerProcess& broker, const BrokerSettings& settings) {
  std::ofstream(broker.config_path(), std::ios::trunc) << broker_config_text(settings, broker.port(), broker.dir());
}

void reload(BrokerProcess& broker) {
  const CommandResult r = broker.tspctl({"reload"}, "");
  INFO("tspctl reload said: " << r.output);
  REQUIRE(r.exit_status == 0);
  REQUIRE(r.output == "OK: configuration reloaded\n");
}

}  // namespace

TEST_CASE("max sessions per-address 20: the 21st unfinished session from one address gets 530",
          "[e2e][limits]") {
  const uint16_t metrics_port = pick_free_port();
  BrokerSettings settings;
  settings.tsp_lines = {"max sessions per-address 20"};
  settings.global_lines = {metrics_line(metrics_port)};
  BrokerProcess broker(settings);
  broker.start();
  const std::string source = "127.0.0.2";

  std::vector<std::unique_ptr<RudpClient>> sessions;
  for (int i = 0; i < 20; ++i) sessions.push_back(admitted_udp(broker.port(), source));

  {
    INFO("the 21st UDP session from " << source << ": the RUDP reply to VERSION= is the status line");
    RudpClient extra(broker.port(), source);
    CHECK(printable(version_reply(extra)) == printable(kBusy));
  }
  {
    INFO("a TCP connection from " << source << " counts with the UDP sessions: 530, then closed");
    TcpClient tcp(broker.port(), source);
    CHECK(printable(tcp.read_reply()) == printable(kBusy));
    CHECK(tcp.wait_closed_by_peer(Millis{2000}));
  }
  auto other = admitted_udp(broker.port(), "127.0.0.3");  // another address is served

  {
    const std::string text = scrape_metrics(metrics_port);
    INFO(text);
    CHECK(metric_sample(text, kPerAddressLimited) == 2);
    CHECK(metric_sample(text, kAllLimited) == 0);
    CHECK(metric_sample(text, kRefused530) == 2);
    CHECK(metric_sample(text, kUnfinished) == 21);
    CHECK(metric_sample(text, kSources) == 2);
    CHECK(metric_sample(text, kSourcesAtLimit) == 1);
  }
  {
    INFO("tspctl sources names the address at its limit first");
    const json listed = json_of(broker.tspctl({"--json", "sources"}, ""));
    REQUIRE(listed["sources"].size() == 2);
    CHECK(listed["sources"][0] ==
          json{{"address", source}, {"sessions", 20}, {"anonymous", 0}, {"at_limit", true}, {"policed", 0}});
    CHECK(listed["sources"][1] ==
          json{{"address", "127.0.0.3"}, {"sessions", 1}, {"anonymous", 0}, {"at_limit", false}, {"policed", 0}});
    CHECK(listed["limits"]["sessions_per_address"] == 20);
    CHECK(listed["policed"] == 0);  // no dataplane: nothing policed
    const CommandResult table = broker.tspctl({"sources"}, "");
    CHECK(table.exit_status == 0);
    CHECK_THAT(table.output, Catch::StartsWith("ADDRESS    SESSIONS  ANONYMOUS  AT LIMIT  POLICED\n"
                                               "127.0.0.2        20          0  yes             0\n"));
  }

  {
    INFO("a session whose tunnel goes live stops counting: one more from " << source << " is admitted");
    udp_login_anonymous(*sessions[0]);
    TunnelRequestSpec spec;
    spec.client_ipv4 = source;  // declared = observed: v6v4
    udp_create_offer(*sessions[0], spec);
    udp_accept(*sessions[0]);
    CHECK(metric_sample(scrape_metrics(metrics_port), kSourcesAtLimit) == 0);
  }
  auto tcp = std::make_unique<TcpClient>(broker.port(), source);
  tcp_hello(*tcp);
  {
    INFO("the TCP session took the freed slot: the next UDP session is refused again");
    RudpClient extra(broker.port(), source);
    CHECK(printable(version_reply(extra)) == printable(kBusy));
    CHECK(metric_sample(scrape_metrics(metrics_port), kUnfinished) == 21);
  }
  {
    INFO("a session that closes stops counting");
    tcp.reset();
    CHECK(await_sample(metrics_port, kSourcesAtLimit, 0) == 0);
    sessions.push_back(admitted_udp(broker.port(), source));
  }
  const std::string text = scrape_metrics(metrics_port);
  CHECK(metric_sample(text, kPerAddressLimited) == 3);
  CHECK(metric_sample(text, kAllLimited) == 0);
  CHECK(metric_sample(text, kUnfinished) == 21);
  CHECK(metric_sample(text, kSourcesAtLimit) == 1);

  broker.stop_expect_clean_exit();
}

// A session whose tunnel is up no longer counts; one that starts over (VERSION= again) is
// unfinished again, and must find a slot as a new session does.
TEST_CASE("max sessions per-address 3: a session that starts over after its tunnel needs a slot again",
          "[e2e][limits]") {
  const uint16_t metrics_port = pick_free_port();
  BrokerSettings settings;
  settings.tsp_lines = {"max sessions per-address 3"};
  settings.global_lines = {metrics_line(metrics_port)};
  BrokerProcess broker(settings);
  broker.start();

  const std::string udp_source = "127.0.0.8";
  RudpClient udp(broker.port(), udp_source);
  udp_hello(udp);
  udp_login_anonymous(udp);
  TunnelRequestSpec udp_spec;
  udp_spec.client_ipv4 = udp_source;  // declared = observed: v6v4
  udp_create_offer(udp, udp_spec);
  udp_accept(udp);
  std::vector<std::unique_ptr<RudpClient>> fill;
  for (int i = 0; i < 3; ++i) fill.push_back(admitted_udp(broker.port(), udp_source));
  {
    INFO("over UDP: VERSION= on the established session gets 530, and the session is gone");
    CHECK(printable(version_reply(udp)) == printable(kBusy));
    udp.send("AUTHENTICATE ANONYMOUS\r\n");  // no session: silence
    CHECK_FALSE(udp.wait_reply(Millis{500}).has_value());
  }
  const json listed = json_of(broker.tspctl({"--json", "tunnels"}, ""));
  REQUIRE(listed["tunnels"].size() == 1);
  CHECK(listed["tunnels"][0]["client_ipv4"] == udp_source);  // its tunnel stays live

  const std::string tcp_source = "127.0.0.9";
  TcpClient tcp(broker.port(), tcp_source);
  tcp_hello(tcp);
  tcp_login_anonymous(tcp);
  TunnelRequestSpec tcp_spec;
  tcp_spec.client_ipv4 = tcp_source;
  tcp_create_offer(tcp, tcp_spec);
  tcp_accept(tcp);
  for (int i = 0; i < 3; ++i) fill.push_back(admitted_udp(broker.port(), tcp_source));
  {
    INFO("over TCP: VERSION= on the held connection gets 530, then the connection closes");
    tcp.send(version_line("2.0.2"));
    CHECK(printable(tcp.read_reply()) == printable(kBusy));
    CHECK(tcp.wait_closed_by_peer(Millis{2000}));
  }
  const std::string text = scrape_metrics(metrics_port);
  INFO(text);
  CHECK(metric_sample(text, kPerAddressLimited) == 2);
  CHECK(metric_sample(text, kUnfinished) == 6);
  CHECK(metric_sample(text, kSourcesAtLimit) == 2);

  broker.stop_expect_clean_exit();
}

TEST_CASE("Reload: max sessions per-address and limit anonymous per-address take effect at once", "[e2e][limits]") {
  const uint16_t metrics_port = pick_free_port();
  BrokerSettings settings;
  settings.global_lines = {metrics_line(metrics_port)};
  BrokerProcess broker(settings);
  broker.start();

  // Under the defaults (256 and 256): three unfinished sessions from 127.0.0.4, three live
  // anonymous tunnels from 127.0.0.6.
  std::vector<std::unique_ptr<RudpClient>> early;
  for (int i = 0; i < 3; ++i) early.push_back(admitted_udp(broker.port(), "127.0.0.4"));
  std::vector<std::unique_ptr<RudpClient>> holders;
  for (int i = 0; i < 3; ++i) {
    holders.push_back(std::make_unique<RudpClient>(broker.port(), "127.0.0.6"));
    anonymous_nat_offer(*holders.back());
    udp_accept(*holders.back());
  }

  BrokerSettings limited = settings;
  limited.tsp_lines.push_back("max sessions per-address 2");
  limited.global_lines.push_back("limit anonymous per-address 2");
  write_config(broker, limited);
  reload(broker);
  CHECK(broker.log_shows("reload: max sessions per-address: 256 -> 2"));
  CHECK(broker.log_shows("reload: limit anonymous per-address: 256 -> 2"));

  {
    INFO("sessions already over the new limit carry on; a new one waits for room");
    RudpClient extra(broker.port(), "127.0.0.4");
    CHECK(printable(version_reply(extra)) == printable(kBusy));
    udp_login_anonymous(*early[0]);
  }
  auto first = admitted_udp(broker.port(), "127.0.0.5");
  auto second = admitted_udp(broker.port(), "127.0.0.5");
  {
    INFO("the third session from 127.0.0.5 gets 530");
    RudpClient third(broker.port(), "127.0.0.5");
    CHECK(printable(version_reply(third)) == printable(kBusy));
  }
  {
    INFO("127.0.0.6 holds 3 anonymous tunnels from before the reload: a 4th is refused");
    RudpClient fourth(broker.port(), "127.0.0.6");
    CHECK(printable(anonymous_nat_create_bytes(fourth)) == printable(no_more_tunnels()));
  }
  CHECK(broker.log_shows("127.0.0.6: anonymous refused 301: 127.0.0.6 holds 3 anonymous tunnels "
                         "(limit anonymous per-address 2)"));

  INFO("0: no limit per address");
  limited.tsp_lines.back() = "max sessions per-address 0";
  limited.global_lines.back() = "limit anonymous per-address 0";
  write_config(broker, limited);
  reload(broker);
  CHECK(broker.log_shows("reload: max sessions per-address: 2 -> 0"));
  CHECK(broker.log_shows("reload: limit anonymous per-address: 2 -> 0"));
  auto third = admitted_udp(broker.port(), "127.0.0.5");
  auto fourth = admitted_udp(broker.port(), "127.0.0.4");
  {
    RudpClient c(broker.port(), "127.0.0.6");
    anonymous_nat_offer(c);
    udp_accept(c);
  }
  const std::string text = scrape_metrics(metrics_port);
  CHECK(metric_sample(text, kPerAddressLimited) == 2);
  CHECK(metric_sample(text, kSourcesAtLimit) == 0);
  CHECK(metric_sample(text, kAnonymousLimited) == 1);

  broker.stop_expect_clean_exit();
}

TEST_CASE("limit anonymous per-address 2: a third anonymous tunnel from one address gets 301", "[e2e][limits]") {
  const uint16_t metrics_port = pick_free_port();
  BrokerSettings settings;
  settings.global_lines = {metrics_line(metrics_port), "limit anonymous per-address 2"};
  BrokerProcess broker(settings);
  broker.add_user("bob", "bob-pw");
  broker.start();
  const std::string source = "127.0.0.2";

  // Two hosts behind one NAT (two source ports of 127.0.0.2): both get a tunnel.
  RudpClient a1(broker.port(), source), a2(broker.port(), source);
  anonymous_nat_offer(a1);
  udp_accept(a1);
  anonymous_nat_offer(a2);
  udp_accept(a2);
  const uint16_t port1 = local_port(a1.fd()), port2 = local_port(a2.fd());
  CHECK(anonymous_ports_of(broker, source) == std::multiset<uint16_t>{port1, port2});

  RudpClient a3(broker.port(), source);
  {
    INFO("a third port of the same address: the framed 301");
    CHECK(printable(anonymous_nat_create_bytes(a3)) == printable(no_more_tunnels()));
    CHECK(broker.log_shows(source + ": anonymous refused 301: " + source +
                           " holds 2 anonymous tunnels (limit anonymous per-address 2)"));
  }
  {
    INFO("another address is not affected");
    RudpClient b(broker.port(), "127.0.0.3");
    anonymous_nat_offer(b);
    udp_accept(b);
  }
  {
    INFO("nor is a registered user from the same address");
    RudpClient bob(broker.port(), source);
    udp_hello(bob);
    udp_login_plain(bob, "bob", "bob-pw");
    CHECK(udp_create_offer(bob, behind_nat()).type == "v6udpv4");
    udp_accept(bob);
  }
  {
    INFO("the first host asks again from its own NAT mapping (a new VERSION= on the same port): it takes over "
         "its own tunnel");
    anonymous_nat_offer(a1);
    udp_accept(a1);
    CHECK(anonymous_ports_of(broker, source) == std::multiset<uint16_t>{port1, port2});
  }
  {
    INFO("the take-over left the count at 2: the third port is still refused");
    CHECK(printable(a3.request(create_request(behind_nat())).payload) == printable(no_more_tunnels()));
  }

  INFO("tspctl kick of one of " << source << "'s tunnels makes room: the third port gets its tunnel");
  const CommandResult kicked = broker.tspctl({"kick", std::to_string(tunnel_id_of(broker, source, port2))}, "");
  INFO("tspctl kick said: " << kicked.output);
  REQUIRE(kicked.exit_status == 0);
  const OfferFields offer = udp_create_offer(a3, behind_nat());
  CHECK(offer.type == "v6udpv4");
  udp_accept(a3);
  CHECK(anonymous_ports_of(broker, source) == std::multiset<uint16_t>{port1, local_port(a3.fd())});

  const std::string text = scrape_metrics(metrics_port);
  CHECK(metric_sample(text, kAnonymousLimited) == 2);
  CHECK(metric_sample(text, kRefused301) == 2);
  broker.stop_expect_clean_exit();
}

TEST_CASE("limit anonymous per-address 2: offers count until accepted, rejected or abandoned", "[e2e][limits]") {
  const uint16_t metrics_port = pick_free_port();
  BrokerSettings settings;
  settings.global_lines = {metrics_line(metrics_port), "limit anonymous per-address 2"};
  BrokerProcess broker(settings);
  broker.start();
  const std::string source = "127.0.0.4";

  // Two offers pending from one address: one over TCP (v6v4), one over UDP (v6udpv4).
  auto tcp = std::make_unique<TcpClient>(broker.port(), source);
  tcp_hello(*tcp);
  tcp_login_anonymous(*tcp);
  TunnelRequestSpec direct;
  direct.client_ipv4 = source;
  CHECK(tcp_create_offer(*tcp, direct).type == "v6v4");
  RudpClient u1(broker.port(), source);
  anonymous_nat_offer(u1);
  CHECK(endpoints_used(broker) == 2);

  RudpClient u2(broker.port(), source);
  {
    INFO("two offers not yet accepted count: a third port gets 301");
    CHECK(printable(anonymous_nat_create_bytes(u2)) == printable(no_more_tunnels()));
  }
  {
    INFO("the UDP offer rejected: the third port is offered a tunnel");
    CHECK(printable(u1.request(reject_message()).payload) == printable(""));
    CHECK(udp_create_offer(u2, behind_nat()).type == "v6udpv4");
  }
  RudpClient u3(broker.port(), source);
  {
    INFO("two offers pending again: a fourth port gets 301");
    CHECK(printable(anonymous_nat_create_bytes(u3)) == printable(no_more_tunnels()));
  }
  {
    INFO("the TCP session ends with its offer pending: the offer goes, and so does its count");
    tcp.reset();
    CHECK(await_value([&] { return endpoints_used(broker); }, 1) == 1);
    CHECK(udp_create_offer(u3, behind_nat()).type == "v6udpv4");
  }
  INFO("both offers go live: the address holds 2 live tunnels, and a fifth port gets 301");
  udp_accept(u2);
  udp_accept(u3);
  CHECK(anonymous_ports_of(broker, source) == std::multiset<uint16_t>{local_port(u2.fd()), local_port(u3.fd())});
  RudpClient u4(broker.port(), source);
  CHECK(printable(anonymous_nat_create_bytes(u4)) == printable(no_more_tunnels()));
  CHECK(broker.log_shows(source + ": anonymous refused 301: " + source +
                         " holds 2 anonymous tunnels (limit anonymous per-address 2)"));

  const std::string text = scrape_metrics(metrics_port);
  CHECK(metric_sample(text, kAnonymousLimited) == 3);
  CHECK(metric_sample(text, kRefused301) == 3);
  broker.stop_expect_clean_exit();
}

}  // namespace tsp::e2e
