// Reverse DNS delegation with the real daemon (DESIGN.md "the control plane"): a router that
// names its name servers (tsp-protocol.md §3.4 (b)) gets NS records for its prefix's ip6.arpa
// zone in the zone file, the operator's reload command runs, and the records go with the
// tunnel; a restart writes them again from the store; names that are not host names get 509.
// BIND's named-checkzone (bind9-utils) loads the file as a name server would.
#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/e2e/broker_process.hpp"
#include "tests/e2e/polling.hpp"
#include "tests/e2e/tsp_dialogs.hpp"

namespace tsp::e2e {
namespace {

constexpr const char* kUser = "bob";
constexpr const char* kPassword = "s3cret-p4ss";

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string last_line(std::string text) {
  if (!text.empty() && text.back() == '\n') text.pop_back();
  return text.substr(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
}

// The ip6.arpa zone of a /64 written fully expanded ("2001:0db8:f200:0000:0000:...").
std::string reverse_zone_of_64(const std::string& expanded) {
  std::string nibbles;
  for (char c : expanded.substr(0, 19))
    if (c != ':') nibbles += c;
  REQUIRE(nibbles.size() == 16);
  std::string zone;
  for (auto it = nibbles.rbegin(); it != nibbles.rend(); ++it) (zone += *it) += '.';
  return zone + "ip6.arpa.";
}

OfferFields router_offer(RudpClient& c, const std::vector<std::string>& names) {
  udp_hello(c);
  udp_login_plain(c, kUser, kPassword);
  TunnelRequestSpec spec;
  spec.router_prefix_length = 64;
  spec.dns_names = names;
  return udp_create_offer(c, spec);
}

}  // namespace

TEST_CASE("DNS delegation: a router's name servers reach the zone file and the reload command", "[e2e][dns]") {
  TempDir zone_dir;
  const std::string zone_file = zone_dir.path() + "/delegations.zone";
  const std::string reloads = zone_dir.path() + "/reloads";
  const std::string script = zone_dir.path() + "/reload.sh";
  std::ofstream(script) << "#!/bin/sh\necho \"$TSP_DELEGATION_ZONES $TSP_DELEGATION_FILE\" >> " << reloads << "\n";
  REQUIRE(::chmod(script.c_str(), 0755) == 0);
  BrokerSettings settings;
  settings.global_lines = {"dns delegation file " + zone_file, "dns delegation ttl 900",
                           "dns delegation reload " + script};
  BrokerProcess broker(settings);
  broker.add_user(kUser, kPassword);
  broker.start();

  INFO("at start: the file, with nothing delegated, and the command told so");
  REQUIRE(eventually([&] { return read_text(reloads) == "0 " + zone_file + "\n"; }));
  CHECK(read_text(zone_file).find("; 0 zone(s) delegated\n") != std::string::npos);

  RudpClient c(broker.port());
  const OfferFields offer = router_offer(c, {"ns1.example.net", "NS2.Example.Net"});
  udp_accept(c);
  const std::string zone = reverse_zone_of_64(offer.prefix);
  const std::string records = zone + " 900 IN NS ns1.example.net.\n" + zone + " 900 IN NS ns2.example.net.\n";
  INFO("the tunnel is live: its zone is delegated to both name servers");
  REQUIRE(eventually([&] { return read_text(zone_file).find(records) != std::string::npos; }));
  CHECK(eventually([&] { return read_text(reloads).find("1 " + zone_file + "\n") != std::string::npos; }));
  {
    INFO("a real name server's checker loads the file $INCLUDEd in the parent zone of the /64 pool");
    const std::string parent = zone_dir.path() + "/parent.zone";
    std::ofstream(parent) << "$TTL 3600\n@ IN SOA ns.broker.example. hostmaster.broker.example. 1 3600 600 604800 300\n"
                             "@ IN NS ns.broker.example.\n$INCLUDE " << zone_file << "\n";
    const CommandResult checked = run_command(
        {"/usr/bin/named-checkzone", "-i", "local", "-k", "fail", "-D", "-o", "-", "0.0.2.f.8.b.d.0.1.0.0.2.ip6.arpa", parent}, "",
        zone_dir.path() + "/checkzone.out");
    INFO(checked.output);
    CHECK(checked.exit_status == 0);
    size_t delegated = 0;
    std::istringstream lines(checked.output);
    for (std::string line; std::getline(lines, line);) {
      delegated += line.rfind(zone, 0) == 0 && line.find(" IN NS") != std::string::npos &&
                   (line.find("ns1.example.net.") != std::string::npos || line.find("ns2.example.net.") != std::string::npos);
    }
    CHECK(delegated == 2);
  }
  {
    INFO("tspctl stats shows the writer: the file, one zone, no failure");
    const CommandResult stats = broker.tspctl({"stats"}, "");
    INFO(stats.output);
    CHECK(stats.exit_status == 0);
    CHECK(stats.output.find("dns delegation:\nfile:            " + zone_file + "\nzones:           1\n") !=
          std::string::npos);
    CHECK(stats.output.find("reload commands: ") != std::string::npos);
    CHECK(stats.output.find(" (0 failed)\n") != std::string::npos);
    CHECK(stats.output.find("last error:      -\n") != std::string::npos);
  }

  SECTION("a name that is not a host name gets 509 and changes nothing") {
    RudpClient bad(broker.port(), "127.0.0.2");
    udp_hello(bad);
    udp_login_plain(bad, kUser, kPassword);
    TunnelRequestSpec spec;
    spec.client_ipv4 = "127.0.0.2";
    spec.router_prefix_length = 64;
    spec.dns_names = {"ns1.example.net", "evil.example;rm"};
    const FramedReply reply = udp_create(bad, spec);
    CHECK(reply.status == 509);
    CHECK(reply.status_line == "509 DNS delegation error\r\n");
    CHECK(broker.log_shows("refused 509: dns_server name 'evil.example;rm' is not a host name"));
    CHECK(read_text(zone_file).find(records) != std::string::npos);
  }
  SECTION("kicked: the delegation goes, and the command is told") {
    REQUIRE(broker.tspctl({"kick", offer.client_ipv6}, "").exit_status == 0);
    REQUIRE(eventually([&] { return read_text(zone_file).find("; 0 zone(s) delegated\n") != std::string::npos; }));
    CHECK(read_text(zone_file).find(" IN NS ") == std::string::npos);
    CHECK(eventually([&] { return last_line(read_text(reloads)) == "0 " + zone_file; }));
  }
  SECTION("restarted with the file gone: written again from the store") {
    broker.stop_expect_clean_exit();
    REQUIRE(std::remove(zone_file.c_str()) == 0);
    broker.start();
    REQUIRE(eventually([&] { return read_text(zone_file).find(records) != std::string::npos; }));
  }
  broker.stop_expect_clean_exit();
}

}  // namespace tsp::e2e

namespace tsp::e2e {

TEST_CASE("DNS delegation: turned on and off by a reload", "[e2e][dns]") {
  TempDir zone_dir;
  const std::string zone_file = zone_dir.path() + "/delegations.zone";
  BrokerProcess broker;
  broker.add_user(kUser, kPassword);
  broker.start();
  RudpClient c(broker.port());
  const OfferFields offer = router_offer(c, {"ns1.example.net"});
  udp_accept(c);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK_FALSE(std::ifstream(zone_file).good());

  const std::string plain_config = read_text(broker.config_path());
  std::ofstream(broker.config_path(), std::ios::app) << "dns delegation file " << zone_file << "\n";
  REQUIRE(broker.tspctl({"reload"}, "").exit_status == 0);
  INFO("on: the live tunnel's delegation is written at once");
  const std::string record = reverse_zone_of_64(offer.prefix) + " 3600 IN NS ns1.example.net.\n";
  REQUIRE(eventually([&] { return read_text(zone_file).find(record) != std::string::npos; }));
  CHECK(broker.log_shows("reload: dns delegation: off -> file " + zone_file + " ttl 3600"));

  std::ofstream(broker.config_path(), std::ios::trunc) << plain_config;
  REQUIRE(broker.tspctl({"reload"}, "").exit_status == 0);
  CHECK(broker.log_shows("dns delegation off"));
  INFO("off: the file is left as it was, and no longer follows the tunnels");
  REQUIRE(broker.tspctl({"kick", offer.client_ipv6}, "").exit_status == 0);
  // Longer than the writer's settle period (1 s): a writer still running would have written.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  CHECK(read_text(zone_file).find(record) != std::string::npos);
  broker.stop_expect_clean_exit();
}

}  // namespace tsp::e2e
