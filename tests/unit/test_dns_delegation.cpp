// Reverse DNS delegation: which names a client may give, the ip6.arpa zones of a prefix, the
// records' text, and the writer that keeps a real file and runs a real command.
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "control/dns/delegation_writer.hpp"
#include "control/dns/reverse_zone.hpp"
#include "tests/unit/scratch_dir.hpp"

using namespace tsp;
using namespace tsp::dns;
using namespace std::chrono_literals;

namespace {

Ipv6Prefix prefix(const char* text) {
  const auto p = Ipv6Prefix::parse(text);
  REQUIRE(p.has_value());
  return *p;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}


// Polls `done` for up to 5 s: the writer works on its own thread.
template <typename F>
bool eventually(F done) {
  for (int i = 0; i < 500; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

DelegationList shared(const std::vector<Delegation>& delegations) {
  DelegationList out;
  for (const auto& d : delegations) out.push_back(std::make_shared<const Delegation>(d));
  return out;
}

// The tunnels as the writer's snapshot sees them, changed by the test.
struct FakeTunnels {
  std::mutex mu;
  std::vector<Delegation> delegations;
  int snapshots = 0;
  DelegationList snapshot() {
    std::lock_guard lock(mu);
    ++snapshots;
    return shared(delegations);
  }
  void set(std::vector<Delegation> d) {
    std::lock_guard lock(mu);
    delegations = std::move(d);
  }
};

}  // namespace

TEST_CASE("name servers must be plain host names", "[dns]") {
  for (const char* good : {"ns1.example.net", "ns1.example.net.", "NS-2.Example.NET", "a.b", "x1.0.example",
                           "xn--bcher-kva.example"}) {
    INFO(good);
    CHECK(valid_name_server(good));
  }
  const std::string label63(63, 'a'), label64(64, 'a');
  CHECK(valid_name_server(label63 + ".example"));
  CHECK_FALSE(valid_name_server(label64 + ".example"));
  std::string long_name;
  while (long_name.size() < 250) long_name += "abcdefghi.";
  long_name += "ex";  // 252 characters
  CHECK(valid_name_server(long_name));
  CHECK_FALSE(valid_name_server(long_name + "am"));  // 254
  for (const char* bad : {"", ".", "localhost", "ns1..example.net", ".ns1.example.net", "ns1.example.net..",
                          "-ns1.example.net", "ns1-.example.net", "ns1.example.net\n@ IN NS evil.example.",
                          "ns1 example.net", "ns1.example.net;x", "*.example.net", "@.example.net", "ns_1.example.net",
                          "ns1.exam\"ple.net", "ns1.example.net\\", "2001:db8::53", "ns1.ex\xc3\xa4mple.net"}) {
    INFO(bad);
    CHECK_FALSE(valid_name_server(bad));
  }
}

TEST_CASE("a prefix's ip6.arpa zones, at and between nibble boundaries", "[dns]") {
  CHECK(reverse_zones(prefix("2001:db8:f200:1::/64")) ==
        std::vector<std::string>{"1.0.0.0.0.0.2.f.8.b.d.0.1.0.0.2.ip6.arpa."});
  CHECK(reverse_zones(prefix("2001:db8:f1a0::/48")) == std::vector<std::string>{"0.a.1.f.8.b.d.0.1.0.0.2.ip6.arpa."});
  CHECK(reverse_zones(prefix("2001:db8:abcd:ef00::/56")) ==
        std::vector<std::string>{"f.e.d.c.b.a.8.b.d.0.1.0.0.2.ip6.arpa."});
  // A /62 is the four /64 zones whose last nibble it leaves open in its two low bits.
  CHECK(reverse_zones(prefix("2001:db8:f200:4::/62")) ==
        std::vector<std::string>{"4.0.0.0.0.0.2.f.8.b.d.0.1.0.0.2.ip6.arpa.", "5.0.0.0.0.0.2.f.8.b.d.0.1.0.0.2.ip6.arpa.",
                                 "6.0.0.0.0.0.2.f.8.b.d.0.1.0.0.2.ip6.arpa.", "7.0.0.0.0.0.2.f.8.b.d.0.1.0.0.2.ip6.arpa."});
  CHECK(reverse_zones(prefix("2001:db8:f200:8::/61")).size() == 8);
  CHECK(reverse_zones(prefix("2001:db8:f200:8::/63")).size() == 2);
  CHECK(reverse_zones(prefix("2000::/3")) == std::vector<std::string>{"2.ip6.arpa.", "3.ip6.arpa."});
  CHECK(reverse_zones(prefix("::/0")).empty());
  CHECK(reverse_zones(prefix("2001:db8::1/128")).empty());
  CHECK(reverse_zones(prefix("2001:db8::10/124")).size() == 1);
}

TEST_CASE("stored names split back as the client sent them", "[dns]") {
  const std::vector<std::string> sent{"ns1.example.net", "NS2.example.net."};
  CHECK(join_stored_names(sent) == "ns1.example.net:NS2.example.net.");
  CHECK(split_stored_names(join_stored_names(sent)) == sent);
  CHECK(join_stored_names({}).empty());
  CHECK(split_stored_names("") .empty());
  CHECK(split_stored_names("ns1.example.net") == std::vector<std::string>{"ns1.example.net"});
  CHECK(split_stored_names("a.example:b.example") == std::vector<std::string>{"a.example", "b.example"});
  CHECK(split_stored_names(":a.example::b.example:") == std::vector<std::string>{"a.example", "b.example"});
}

TEST_CASE("the zone text: in order, absolute, lower case, invalid names left out", "[dns]") {
  const std::vector<Delegation> delegations{
      {prefix("2001:db8:f200:2::/64"), {"NS2.Example.net", "ns1.example.net."}},
      {prefix("2001:db8:f200:1::/64"), {"ns.one.example", "ns.one.example"}},
      {prefix("2001:db8:f100::/48"), {"bad name", "x;y"}},  // nothing valid: left out whole
  };
  const RenderedZone z = render_delegations(shared(delegations), 7200);
  CHECK(z.zones == 2);
  CHECK(z.skipped_names == 2);
  const std::string records = z.text.substr(z.text.find("; 2 zone(s) delegated\n") + 22);
  CHECK(records ==
        "1.0.0.0.0.0.2.f.8.b.d.0.1.0.0.2.ip6.arpa. 7200 IN NS ns.one.example.\n"
        "2.0.0.0.0.0.2.f.8.b.d.0.1.0.0.2.ip6.arpa. 7200 IN NS ns1.example.net.\n"
        "2.0.0.0.0.0.2.f.8.b.d.0.1.0.0.2.ip6.arpa. 7200 IN NS ns2.example.net.\n");
  // Every line is a comment or a record: nothing a client sent can add another kind.
  std::istringstream lines(z.text);
  for (std::string line; std::getline(lines, line);) {
    INFO(line);
    CHECK((line.rfind("; ", 0) == 0 || line.find(" IN NS ") != std::string::npos));
  }
  CHECK(render_delegations({}, 3600).zones == 0);
  // Two tunnels of one prefix (a pool's bug) share its records.
  const std::vector<Delegation> twice{{prefix("2001:db8:f200:1::/64"), {"a.example"}},
                                      {prefix("2001:db8:f200:1::/64"), {"b.example", "A.example"}}};
  const RenderedZone t = render_delegations(shared(twice), 60);
  CHECK(t.zones == 1);
  CHECK(t.text.substr(t.text.find("delegated\n") + 10) ==
        "1.0.0.0.0.0.2.f.8.b.d.0.1.0.0.2.ip6.arpa. 60 IN NS a.example.\n"
        "1.0.0.0.0.0.2.f.8.b.d.0.1.0.0.2.ip6.arpa. 60 IN NS b.example.\n");
  // The same set in another order gives the same text.
  const std::vector<Delegation> reversed(delegations.rbegin(), delegations.rend());
  CHECK(render_delegations(shared(reversed), 7200).text == z.text);
}

TEST_CASE("the writer keeps the zone file in step and runs the reload command", "[dns][writer]") {
  const tsp::test::ScratchDir dir("tsp-dns");
  const std::filesystem::path root = dir.path;
  const auto file = root / "delegations.zone";
  const auto marker = root / "reloaded";
  FakeTunnels tunnels;
  tunnels.set({{prefix("2001:db8:f200:1::/64"), {"ns1.example.net"}}});
  DelegationOptions options{file.string(), 3600,
                            {"/bin/sh", "-c", "echo \"$TSP_DELEGATION_ZONES $TSP_DELEGATION_FILE\" >> " + marker.string()}};
  DelegationWriter writer([&] { return tunnels.snapshot(); }, options, 50ms, 100ms);

  // At start: the file from the tunnels there are, then the command.
  REQUIRE(eventually([&] { return writer.stats().commands == 1; }));
  CHECK(read_file(file).find("1.0.0.0.0.0.2.f.8.b.d.0.1.0.0.2.ip6.arpa. 3600 IN NS ns1.example.net.\n") !=
        std::string::npos);
  CHECK(read_file(marker) == "1 " + file.string() + "\n");
  CHECK(writer.stats().writes == 1);
  CHECK(writer.stats().zones == 1);
  CHECK_FALSE(std::filesystem::exists(file.string() + ".tmp"));

  SECTION("a change is written and announced; no change writes nothing") {
    tunnels.set({{prefix("2001:db8:f200:1::/64"), {"ns1.example.net"}}, {prefix("2001:db8:f100::/48"), {"ns.b.example"}}});
    writer.changed();
    REQUIRE(eventually([&] { return writer.stats().commands == 2; }));
    CHECK(writer.stats().zones == 2);
    CHECK(read_file(file).find("0.0.1.f.8.b.d.0.1.0.0.2.ip6.arpa. 3600 IN NS ns.b.example.\n") != std::string::npos);
    CHECK(read_file(marker) == "1 " + file.string() + "\n2 " + file.string() + "\n");
    const int seen = tunnels.snapshots;
    writer.changed();  // the same set
    REQUIRE(eventually([&] { return tunnels.snapshots > seen; }));
    std::this_thread::sleep_for(100ms);
    CHECK(writer.stats().writes == 2);
    CHECK(writer.stats().commands == 2);
  }
  SECTION("changes told one by one are followed without taking the whole set again") {
    auto delegation = [](const char* p, std::vector<std::string> names) {
      return std::make_shared<const Delegation>(Delegation{prefix(p), std::move(names)});
    };
    const int seen = tunnels.snapshots;
    writer.changed({prefix("2001:db8:f200:2::/64"), delegation("2001:db8:f200:2::/64", {"ns.two.example"})});
    writer.changed({prefix("2001:db8:f200:3::/64"), delegation("2001:db8:f200:3::/64", {"ns.three.example"})});
    writer.changed({prefix("2001:db8:f200:3::/64"), nullptr});  // came and went
    writer.changed({prefix("2001:db8:f200:1::/64"), nullptr});  // replaced: gone, then back with other names
    writer.changed({prefix("2001:db8:f200:1::/64"), delegation("2001:db8:f200:1::/64", {"ns.new.example"})});
    REQUIRE(eventually([&] { return read_file(file).find("ns.new.example.") != std::string::npos; }));
    const std::string text = read_file(file);
    CHECK(text.find("; 2 zone(s) delegated\n") != std::string::npos);
    CHECK(text.find("1.0.0.0.0.0.2.f.8.b.d.0.1.0.0.2.ip6.arpa. 3600 IN NS ns.new.example.\n") != std::string::npos);
    CHECK(text.find("2.0.0.0.0.0.2.f.8.b.d.0.1.0.0.2.ip6.arpa. 3600 IN NS ns.two.example.\n") != std::string::npos);
    CHECK(text.find("ns.three.example") == std::string::npos);
    CHECK(text.find("ns1.example.net") == std::string::npos);
    CHECK(tunnels.snapshots == seen);

    // A burst of told changes: gathered into few writes, still no snapshot.
    for (int i = 0; i < 2000; ++i) {
      const std::string name = "ns" + std::to_string(i) + ".example.net";
      writer.changed({prefix("2001:db8:f200:2::/64"), delegation("2001:db8:f200:2::/64", {name})});
    }
    REQUIRE(eventually([&] { return read_file(file).find("ns1999.example.net.") != std::string::npos; }));
    CHECK(writer.stats().writes <= 25);
    CHECK(tunnels.snapshots == seen);
  }
  SECTION("a burst of changes is gathered into few writes") {
    for (int i = 0; i < 200; ++i) {
      tunnels.set({{prefix("2001:db8:f200:1::/64"), {"ns" + std::to_string(i) + ".example.net"}}});
      writer.changed();
    }
    REQUIRE(eventually([&] { return read_file(file).find("ns199.example.net.") != std::string::npos; }));
    CHECK(writer.stats().writes <= 20);  // 200 changes within a few settle periods of 50 ms
  }
  SECTION("a failing command is reported and tried again until it succeeds") {
    const auto gate = root / "gate";
    writer.set_options({file.string(), 3600, {"/bin/sh", "-c", "echo 'rndc: connection refused'; test -e " + gate.string()}});
    REQUIRE(eventually([&] { return writer.stats().command_failures >= 2; }));  // retried every 100 ms
    CHECK(writer.stats().last_error.find("exited with status 1: rndc: connection refused") != std::string::npos);
    std::ofstream(gate) << "";
    REQUIRE(eventually([&] { return writer.stats().last_error.empty(); }));
    const auto s = writer.stats();
    CHECK(s.commands == s.command_failures + 2);  // the first run at start and the one that passed
  }
  SECTION("a command that is not there fails clearly") {
    writer.set_options({file.string(), 3600, {"/nonexistent/rndc", "reload"}});
    REQUIRE(eventually([&] { return writer.stats().command_failures >= 1; }));
    CHECK(writer.stats().last_error.find("/nonexistent/rndc") != std::string::npos);
  }
  SECTION("a file that cannot be written is tried again, and nothing is lost") {
    const auto sub = root / "not-yet";
    writer.set_options({(sub / "d.zone").string(), 600, {}});
    REQUIRE(eventually([&] { return writer.stats().write_failures >= 2; }));
    CHECK(writer.stats().last_error.find("not-yet/d.zone.tmp") != std::string::npos);
    tunnels.set({{prefix("2001:db8:f200:1::/64"), {"ns1.example.net"}}, {prefix("2001:db8:f200:2::/64"), {"n.example"}}});
    writer.changed();
    std::filesystem::create_directory(sub);
    REQUIRE(eventually([&] { return std::filesystem::exists(sub / "d.zone"); }));
    CHECK(read_file(sub / "d.zone").find("; 2 zone(s) delegated\n") != std::string::npos);
    CHECK(read_file(sub / "d.zone").find(" 600 IN NS ") != std::string::npos);
  }
}

TEST_CASE("the reload command sees none of the daemon's descriptors and is killed past its limit", "[dns][writer]") {
  const tsp::test::ScratchDir dir("tsp-dns");
  const std::filesystem::path root = dir.path;
  const auto listing = root / "fds";
  const int extra = ::dup(1);  // no O_CLOEXEC: as a socket Boost.Asio opened would be
  REQUIRE(extra > 2);
  std::string error;
  CHECK(run_command({"/bin/sh", "-c", "ls /proc/self/fd > " + listing.string()}, "f", 0, 5000ms, error));
  ::close(extra);
  std::istringstream fds(read_file(listing));
  int count = 0;
  for (std::string fd; fds >> fd;) ++count;
  CHECK(count <= 4);  // 0, 1, 2 and the directory ls reads
  const auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(run_command({"/bin/sleep", "10"}, "f", 0, 200ms, error));
  CHECK(error.find("killed") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - start < 5s);
}
