// tspctl against the real daemon on loopback: every command, its exit status, --json, the
// fallback to the store before the first start, and who may use the admin socket (tspctl run
// under other uids: nobody is refused, a member of the admin group is served). Run as root.
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <thread>
#include <nlohmann/json.hpp>

#include "shared/net_types.hpp"
#include "tests/e2e/broker_process.hpp"
#include "tests/e2e/tsp_dialogs.hpp"

namespace tsp::e2e {
namespace {

using nlohmann::json;

constexpr uid_t kNobody = 65534;  // in no admin group
constexpr uid_t kDaemonUser = 1;  // user daemon, primary group daemon
constexpr gid_t kDaemonGroup = 1;

// Offers write addresses in full (gogoc wants that); tspctl writes them compressed.
std::string compressed(const std::string& address) {
  const auto a = Ipv6Addr::parse(address);
  REQUIRE(a);
  return a->to_string();
}

std::string socket_of(const BrokerProcess& b) { return b.dir() + "/tspbrokerd.sock"; }

// tspctl as `uid` (group `gid`, no supplementary groups), output captured.
CommandResult tspctl_as(uid_t uid, gid_t gid, const std::vector<std::string>& args) {
  const std::string program = required_program("TSPCTL");
  int out[2];
  REQUIRE(::pipe(out) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    ::close(out[0]);
    ::close(out[1]);
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) ::_exit(126);
    std::vector<char*> argv{const_cast<char*>(program.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(program.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  CommandResult r;
  char buf[4096];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) r.output.append(buf, static_cast<size_t>(n));
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

// tspctl's stdout+stderr as JSON (the stderr part must be empty for that).
json json_of(const CommandResult& r) {
  INFO("tspctl said: " << r.output);
  REQUIRE(r.exit_status == 0);
  return json::parse(r.output);
}

// The salt of the SCRAM server-first message for `name` (an unknown name gets a fake one).
std::string scram_salt_of(const BrokerProcess& broker, const std::string& name) {
  TcpClient c(broker.port(), "127.0.0.9");
  tcp_hello(c);
  c.send("AUTHENTICATE SCRAM-SHA-256 " + base64_encode("n,,n=" + name + ",r=e2e-nonce-0123456789") + "\r\n");
  std::string line = c.read_reply();
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  const auto first = base64_decode(line);
  REQUIRE(first);
  const auto s = first->find(",s=");
  REQUIRE(s != std::string::npos);
  return first->substr(s + 3, first->find(',', s + 3) - s - 3);
}

// A PLAIN login over TCP from `from` that must succeed.
void login_ok(const BrokerProcess& broker, const char* from, std::string_view user, std::string_view password) {
  TcpClient c(broker.port(), from);
  tcp_hello(c);
  tcp_login_plain(c, user, password);
}

// A PLAIN login over TCP from `from`; returns the broker's reply, printable.
std::string login_reply(const BrokerProcess& broker, const char* from, std::string_view user,
                        std::string_view password) {
  TcpClient c(broker.port(), from);
  tcp_hello(c);
  c.send(authenticate_line("PLAIN") + plain_blob(user, password));
  return printable(c.read_reply());
}

// Other uids must reach the socket inside the broker's directory (mkdtemp makes it 0700).
void open_directory(const BrokerProcess& b) { REQUIRE(::chmod(b.dir().c_str(), 0755) == 0); }

// alice's v6v4 router with a /48, from 127.0.0.2 over TCP: logged in with PLAIN, accepted.
OfferFields alice_router_over_tcp(TcpClient& alice) {
  tcp_hello(alice);
  tcp_login_plain(alice, "alice", "alice-pw");
  TunnelRequestSpec router;
  router.type = "v6v4";
  router.client_ipv4 = "127.0.0.2";
  router.router_prefix_length = 48;
  const OfferFields offer = tcp_create_offer(alice, router);
  tcp_accept(alice);
  return offer;
}

}  // namespace

TEST_CASE("tspctl: every command against a live daemon", "[e2e][admin]") {
  BrokerProcess broker;
  // Before the first start, user commands work on the store.
  const CommandResult early = broker.tspctl({"user", "add", "alice"}, "alice-pw\n");
  INFO("tspctl said: " << early.output);
  REQUIRE(early.exit_status == 0);
  CHECK_THAT(early.output, Catch::Contains("no daemon on " + socket_of(broker) + ": working on the store"));
  CHECK_THAT(early.output, Catch::Contains("user 'alice' added (realm tspbroker)"));
  CHECK(broker.tspctl({"tunnels"}, "").exit_status == 3);  // the rest needs the daemon
  broker.start();

  // Users through the daemon.
  const CommandResult bob = broker.tspctl({"user", "add", "bob"}, "bob-pw\n");
  CHECK(bob.exit_status == 0);
  CHECK(bob.output == "user 'bob' added (realm tspbroker)\n");  // no fallback note
  CHECK(broker.tspctl({"user", "add", "bob"}, "again\n").exit_status == 2);
  CHECK(broker.tspctl({"user", "add", "bob"}, "").exit_status == 1);  // no password
  CHECK(broker.tspctl({"user", "passwd", "bob"}, "bob-pw2\n").exit_status == 0);
  {
    TcpClient c(broker.port());
    tcp_hello(c);
    tcp_login_plain(c, "bob", "bob-pw2");  // the new password holds at once
  }

  // Two tunnels: anonymous over UDP, alice's router over TCP with a /48.
  RudpClient anon(broker.port());
  udp_hello(anon);
  udp_login_anonymous(anon);
  TunnelRequestSpec udp_host;
  udp_host.type = "v6udpv4";
  const OfferFields anon_offer = udp_create_offer(anon, udp_host);
  udp_accept(anon);
  TcpClient alice(broker.port(), "127.0.0.2");
  const OfferFields alice_offer = alice_router_over_tcp(alice);
  const std::string anon_v6 = compressed(anon_offer.client_ipv6);
  const std::string alice_v6 = compressed(alice_offer.client_ipv6);
  const std::string alice_prefix = compressed(alice_offer.prefix) + "/48";

  const json tunnels = json_of(broker.tspctl({"--json", "tunnels"}, ""));
  REQUIRE(tunnels["tunnels"].size() == 2);
  CHECK(tunnels["dataplane"] == false);
  CHECK(tunnels["tunnels"][0]["anonymous"] == true);
  CHECK(tunnels["tunnels"][0]["mode"] == "v6udpv4");
  CHECK(tunnels["tunnels"][0]["ipv6_address"] == anon_v6);
  CHECK(tunnels["tunnels"][1]["user"] == "alice");
  CHECK(tunnels["tunnels"][1]["prefix"] == alice_prefix);
  CHECK(tunnels["tunnels"][1]["traffic"].is_null());

  const CommandResult table = broker.tspctl({"tunnels"}, "");
  INFO(table.output);
  CHECK(table.exit_status == 0);
  CHECK_THAT(table.output, Catch::StartsWith("ID  USER"));
  CHECK_THAT(table.output, Catch::Contains("alice"));
  CHECK_THAT(table.output, Catch::Contains("(anonymous)  v6udpv4  127.0.0.1:"));
  CHECK_THAT(table.output, Catch::Contains("2 tunnel(s); no dataplane runs"));

  for (const std::string& target : {std::string("alice"), alice_v6, alice_prefix}) {
    const json t = json_of(broker.tspctl({"--json", "tunnel", target}, ""));
    CHECK(t["user"] == "alice");
    CHECK(t["prefix_pool"] == "P_Sites48");
  }
  const CommandResult detail = broker.tspctl({"tunnel", "alice"}, "");
  CHECK_THAT(detail.output, Catch::Contains("v6v4 (TSP over tcp)"));
  const CommandResult missing = broker.tspctl({"tunnel", "carol"}, "");
  CHECK(missing.exit_status == 2);
  CHECK(missing.output == "tspctl: no live tunnel matches 'carol'\n");

  const json users = json_of(broker.tspctl({"--json", "users"}, ""));
  REQUIRE(users["users"].size() == 2);
  CHECK(users["users"][0]["name"] == "alice");
  CHECK(users["users"][0]["ipv6_address"] == alice_v6);
  const json shown = json_of(broker.tspctl({"--json", "user", "show", "alice"}, ""));
  CHECK(shown["allocations"].size() == 2);
  CHECK(shown["tunnel"]["prefix"] == alice_prefix);
  CHECK(broker.tspctl({"user", "show", "carol"}, "").exit_status == 2);

  const json pools = json_of(broker.tspctl({"--json", "pools"}, ""));
  REQUIRE(pools["pools"].size() == 3);
  CHECK(pools["pools"][0]["name"] == "P_Interco");
  CHECK(pools["pools"][0]["used"] == 2);  // the anonymous address and alice's
  const json stats = json_of(broker.tspctl({"--json", "stats"}, ""));
  CHECK(stats["dataplane"].is_null());
  CHECK(stats["control"]["live_tunnels"] == 2);
  CHECK(stats["control"]["commits"] == 2);
  CHECK_THAT(broker.tspctl({"stats"}, "").output, Catch::Contains("dataplane: not running"));

  // Kick the anonymous tunnel by address: gone, and its address in quarantine.
  const CommandResult kicked = broker.tspctl({"kick", anon_v6}, "");
  CHECK(kicked.exit_status == 0);
  CHECK_THAT(kicked.output, Catch::Contains("(anonymous, " + anon_v6 + ") kicked"));
  CHECK(broker.tspctl({"tunnel", anon_v6}, "").exit_status == 2);
  CHECK(broker.tspctl({"kick", anon_v6}, "").exit_status == 2);
  CHECK(json_of(broker.tspctl({"--json", "pools"}, ""))["pools"][0]["quarantined"] == 1);

  // Deleting alice takes her tunnel down.
  CHECK(broker.tspctl({"user", "del", "alice"}, "").exit_status == 0);
  CHECK(json_of(broker.tspctl({"--json", "tunnels"}, ""))["tunnels"].empty());
  CHECK(broker.tspctl({"user", "del", "alice"}, "").exit_status == 2);

  // Usage errors and help.
  CHECK(broker.tspctl({"frobnicate"}, "").exit_status == 1);
  const CommandResult help = broker.tspctl({"kick", "--help"}, "");
  CHECK(help.exit_status == 0);
  CHECK_THAT(help.output, Catch::Contains("3 daemon not reachable, 4 permission denied"));
  broker.stop_expect_clean_exit();

  // The daemon removed its socket: nothing to reach.
  CHECK_FALSE(std::ifstream(socket_of(broker)).good());
  const CommandResult down = broker.tspctl({"stats"}, "");
  CHECK(down.exit_status == 3);
  CHECK_THAT(down.output, Catch::Contains("tspctl: daemon not reachable: cannot connect to " + socket_of(broker)));
}

TEST_CASE("tspctl history: a kicked tunnel is still found by its address, also with the daemon down", "[e2e][admin][history]") {
  BrokerProcess broker;
  broker.add_user("alice", "alice-pw");
  broker.start();
  TcpClient alice(broker.port(), "127.0.0.2");
  const OfferFields offer = alice_router_over_tcp(alice);
  const std::string v6 = compressed(offer.client_ipv6);
  const std::string prefix = compressed(offer.prefix) + "/48";
  auto inside = Ipv6Addr::parse(compressed(offer.prefix));
  REQUIRE(inside);
  inside->bytes[15] = 0x42;  // what an abuse report quotes: some host behind alice's router

  const json live = json_of(broker.tspctl({"--json", "history", v6}, ""));
  REQUIRE(live["history"].size() == 1);
  CHECK(live["history"][0]["ended_at"].is_null());
  CHECK(live["history"][0]["end_reason"].is_null());

  CHECK(broker.tspctl({"kick", v6}, "").exit_status == 0);
  const json ended = json_of(broker.tspctl({"--json", "history", inside->to_string()}, ""));
  REQUIRE(ended["history"].size() == 1);
  const json& rec = ended["history"][0];
  CHECK(rec["user"] == "alice");
  CHECK(rec["mode"] == "v6v4");
  CHECK(rec["transport"] == "tcp");
  CHECK(rec["client_ipv4"] == "127.0.0.2");
  CHECK(rec["ipv6_address"] == v6);
  CHECK(rec["prefix"] == prefix);
  CHECK(rec["end_reason"] == "kicked");
  CHECK(rec["ended_at"].get<int64_t>() >= rec["started_at"].get<int64_t>());
  CHECK(ended["query"]["ipv6_address"] == inside->to_string());

  const CommandResult table = broker.tspctl({"history", v6}, "");
  INFO(table.output);
  CHECK(table.exit_status == 0);
  CHECK_THAT(table.output, Catch::StartsWith("STARTED               ENDED                 REASON  TUNNEL  USER"));
  CHECK_THAT(table.output, Catch::Contains("Z  kicked"));
  CHECK_THAT(table.output, Catch::EndsWith("1 tunnel(s), newest first\n"));
  // By the time it lived (unix seconds), by its IPv4 source, by its user; long before, nobody.
  const std::string started = std::to_string(rec["started_at"].get<int64_t>());
  CHECK(json_of(broker.tspctl({"--json", "history", v6, "--at", started}, ""))["history"].size() == 1);
  CHECK(json_of(broker.tspctl({"--json", "history", "127.0.0.2"}, ""))["history"].size() == 1);
  CHECK(json_of(broker.tspctl({"--json", "history", "--user", "alice", "--limit", "5"}, ""))["history"].size() == 1);
  const CommandResult before = broker.tspctl({"history", v6, "--at", "2000-01-01 00:00:00"}, "");
  CHECK(before.exit_status == 0);
  CHECK(before.output == "no tunnel had " + v6 + " at 2000-01-01T00:00:00Z\n");

  // Usage errors: exit 1, before or from the daemon.
  const CommandResult bad = broker.tspctl({"history", "alice"}, "");
  CHECK(bad.exit_status == 1);
  CHECK(bad.output == "tspctl: 'alice' is not an IPv6 or IPv4 address\n");
  CHECK(broker.tspctl({"history", v6, "--at", "yesterday"}, "").exit_status == 1);
  CHECK(broker.tspctl({"history"}, "").exit_status == 1);
  // alice's router comes back (the same prefix: a registered user's allocation is stable) and
  // is live when the daemon stops.
  TcpClient again(broker.port(), "127.0.0.2");
  CHECK(alice_router_over_tcp(again).prefix == offer.prefix);
  broker.stop_expect_clean_exit();

  // The daemon down: tspctl reads the history file itself.
  const CommandResult offline = broker.tspctl({"--json", "history", inside->to_string()}, "");
  INFO(offline.output);
  REQUIRE(offline.exit_status == 0);
  CHECK_THAT(offline.output, Catch::StartsWith("tspctl: no daemon on " + socket_of(broker)));
  const json kept = json::parse(offline.output.substr(offline.output.find('{')));
  REQUIRE(kept["history"].size() == 2);
  CHECK(kept["history"][0]["ended_at"].is_null());  // the stored tunnel, live until the next start
  CHECK(kept["history"][1] == rec);
  // Deleting alice with the daemon down deletes her stored tunnel and ends its record as the
  // daemon would have (not as "lost" at the next start).
  CHECK(broker.tspctl({"user", "del", "alice"}, "").exit_status == 0);
  const CommandResult after_del = broker.tspctl({"--json", "history", "--user", "alice"}, "");
  const json deleted = json::parse(after_del.output.substr(after_del.output.find('{')));
  REQUIRE(deleted["history"].size() == 2);
  CHECK(deleted["history"][0]["end_reason"] == "user_deleted");
  CHECK(deleted["history"][0]["ended_at"].get<int64_t>() >= deleted["history"][0]["started_at"].get<int64_t>());
  CHECK(deleted["history"][1] == rec);
}

TEST_CASE("tspctl lockouts and unlock: support lifts a guesser's lock without a restart", "[e2e][admin][lockout]") {
  BrokerSettings settings;
  settings.tsp_lines = {"lockout failures 2"};
  BrokerProcess broker(settings);
  broker.add_user("bob", "bob-pw");
  broker.start();
  CHECK_THAT(broker.tspctl({"lockouts"}, "").output,
             Catch::Equals("0 address(es) locked, 0 counting; 2 failed logins within 1m00s lock an address for 5m00s\n"
                           "0 user(s) locked, 0 counting; 20 failed logins within 1h00m lock a user name for 5m00s "
                           "(not for the addresses that proved its password)\n"));

  // Two wrong PLAIN passwords from 127.0.0.3 lock it; the right one is then refused unchecked.
  auto wrong_login = [&] { CHECK(login_reply(broker, "127.0.0.3", "bob", "guess") == printable(kAuthFailed)); };
  wrong_login();
  json listed = json_of(broker.tspctl({"--json", "lockouts"}, ""));
  REQUIRE(listed["sources"].size() == 1);
  CHECK(listed["sources"][0]["state"] == "counting");
  CHECK(listed["sources"][0]["failures"] == 1);
  wrong_login();
  listed = json_of(broker.tspctl({"--json", "lockouts"}, ""));
  CHECK(listed["locked"] == 1);
  REQUIRE(listed["sources"].size() == 1);
  CHECK(listed["sources"][0]["address"] == "127.0.0.3");
  CHECK(listed["sources"][0]["state"] == "locked");
  CHECK(listed["sources"][0]["locked_for"].get<int>() > 290);
  const CommandResult table = broker.tspctl({"lockouts"}, "");
  CHECK_THAT(table.output, Catch::StartsWith("ADDRESS    STATE   FAILURES  LOCKED FOR  WINDOW LEFT\n127.0.0.3  locked"));
  CHECK(login_reply(broker, "127.0.0.3", "bob", "bob-pw") == printable(kAuthFailed));

  const CommandResult lifted = broker.tspctl({"unlock", "127.0.0.3"}, "");
  CHECK(lifted.exit_status == 0);
  CHECK(lifted.output == "lockout of 127.0.0.3 lifted (it was locked)\n");
  login_ok(broker, "127.0.0.3", "bob", "bob-pw");
  CHECK(json_of(broker.tspctl({"--json", "lockouts"}, ""))["sources"].empty());
  const CommandResult again = broker.tspctl({"unlock", "127.0.0.3"}, "");
  CHECK(again.exit_status == 2);
  CHECK(again.output == "tspctl: no failed logins remembered from 127.0.0.3\n");
  CHECK(broker.tspctl({"unlock", "2001:db8::1"}, "").exit_status == 1);
  CHECK(broker.tspctl({"unlock", "all"}, "").output ==
        "every lockout lifted (0 address(es) and 0 user(s) were locked)\n");
  broker.stop_expect_clean_exit();
}

TEST_CASE("a user name guessed from many addresses is locked; tspctl unlock-user lifts it", "[e2e][admin][lockout]") {
  BrokerSettings settings;
  settings.tsp_lines = {"lockout user-failures 2"};
  BrokerProcess broker(settings);
  broker.add_user("bob", "bob-pw");
  broker.start();
  auto login = [&](const char* from, const char* password) { return login_reply(broker, from, "bob", password); };
  login_ok(broker, "127.0.0.2", "bob", "bob-pw");  // bob's own address proves the password first
  CHECK(login("127.0.0.3", "guess1") == printable(kAuthFailed));
  CHECK(login("127.0.0.4", "guess2") == printable(kAuthFailed));  // bob's second failure: locked
  json listed = json_of(broker.tspctl({"--json", "lockouts"}, ""));
  CHECK(listed["locked"] == 0);  // each address failed once: none is locked
  CHECK(listed["locked_users"] == 1);
  REQUIRE(listed["users"].size() == 1);
  CHECK(listed["users"][0]["user"] == "bob");
  CHECK(listed["users"][0]["state"] == "locked");
  CHECK(listed["users"][0]["trusted_sources"] == 1);
  CHECK_THAT(broker.tspctl({"lockouts"}, "").output,
             Catch::Contains("USER  STATE   FAILURES  LOCKED FOR  WINDOW LEFT  TRUSTED\nbob   locked"));

  CHECK(login("127.0.0.5", "bob-pw") == printable(kAuthFailed));  // the right password, refused unchecked
  login_ok(broker, "127.0.0.2", "bob", "bob-pw");  // bob's own address is not held to the lock

  // A restart keeps the lock and bob's trusted address (saved at the stop, read at the start),
  // and an unknown name's fake SCRAM salt (its key lives in the store).
  const std::string fake_salt = scram_salt_of(broker, "nobody");
  CHECK(fake_salt != scram_salt_of(broker, "nobody-else"));
  broker.stop_expect_clean_exit();
  broker.start();
  CHECK(scram_salt_of(broker, "nobody") == fake_salt);
  // bob, and the two guessers' addresses whose failures are still in their window.
  CHECK(broker.log_shows("lockout: 2 address(es) and 1 user name(s) taken back from the store"));
  listed = json_of(broker.tspctl({"--json", "lockouts"}, ""));
  REQUIRE(listed["users"].size() == 1);
  CHECK(listed["users"][0]["state"] == "locked");
  CHECK(listed["users"][0]["trusted_sources"] == 1);
  CHECK(login("127.0.0.5", "bob-pw") == printable(kAuthFailed));
  login_ok(broker, "127.0.0.2", "bob", "bob-pw");
  const CommandResult lifted = broker.tspctl({"unlock-user", "bob"}, "");
  CHECK(lifted.exit_status == 0);
  CHECK(lifted.output == "lockout of user 'bob' lifted (it was locked)\n");
  login_ok(broker, "127.0.0.5", "bob", "bob-pw");
  const CommandResult again = broker.tspctl({"unlock-user", "bob"}, "");
  CHECK(again.exit_status == 2);
  CHECK(again.output == "tspctl: user 'bob' is neither locked out nor counting failed logins\n");
  broker.stop_expect_clean_exit();
}

TEST_CASE("locks survive a kill -9: the daemon saves them while it runs", "[e2e][admin][lockout]") {
  using namespace std::chrono_literals;
  BrokerSettings settings;
  settings.tsp_lines = {"lockout failures 2", "lockout save-interval 1"};
  BrokerProcess broker(settings);
  broker.add_user("bob", "bob-pw");
  broker.start();
  login_ok(broker, "127.0.0.2", "bob", "bob-pw");  // a trusted address for bob
  CHECK(login_reply(broker, "127.0.0.3", "bob", "guess1") == printable(kAuthFailed));
  CHECK(login_reply(broker, "127.0.0.3", "bob", "guess2") == printable(kAuthFailed));  // 127.0.0.3 locked
  REQUIRE(json_of(broker.tspctl({"--json", "lockouts"}, ""))["locked"] == 1);
  std::this_thread::sleep_for(2500ms);  // more than one save interval
  broker.kill_hard();  // no clean stop: nothing is saved at the end

  broker.start();
  CHECK(broker.log_shows("lockout: 1 address(es) and 1 user name(s) taken back from the store"));
  const json listed = json_of(broker.tspctl({"--json", "lockouts"}, ""));
  CHECK(listed["locked"] == 1);
  REQUIRE(listed["users"].size() == 1);
  CHECK(listed["users"][0]["trusted_sources"] == 1);
  CHECK(login_reply(broker, "127.0.0.3", "bob", "bob-pw") == printable(kAuthFailed));  // still locked
  login_ok(broker, "127.0.0.2", "bob", "bob-pw");
  broker.stop_expect_clean_exit();
}

TEST_CASE("tspctl reload: OK, or the config error with exit 2", "[e2e][admin]") {
  BrokerProcess broker;
  broker.start();
  const CommandResult ok = broker.tspctl({"reload"}, "");
  INFO(ok.output);
  CHECK(ok.exit_status == 0);
  CHECK(ok.output == "OK: configuration reloaded\n");
  const std::string good = [&] {
    std::ifstream in(broker.config_path());
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  std::ofstream(broker.config_path(), std::ios::app) << "frobnicate now\n";
  // tspctl would refuse the broken file itself: name the socket instead.
  const CommandResult refused = run_command({required_program("TSPCTL"), "--socket", socket_of(broker), "reload"},
                                            "", broker.dir() + "/reload.out");
  INFO(refused.output);
  CHECK(refused.exit_status == 2);
  CHECK_THAT(refused.output, Catch::Contains(broker.config_path() + ":"));
  std::ofstream(broker.config_path(), std::ios::trunc) << good;
  CHECK(broker.tspctl({"reload"}, "").exit_status == 0);
  broker.stop_expect_clean_exit();
}

TEST_CASE("tspctl as another uid: refused unless root or in the admin group", "[e2e][admin][permissions]") {
  SECTION("no admin group: root only") {
    BrokerProcess broker;
    broker.start();
    open_directory(broker);
    const CommandResult r = tspctl_as(kNobody, kNobody, {"--socket", socket_of(broker), "stats"});
    INFO(r.output);
    CHECK(r.exit_status == 4);
    CHECK_THAT(r.output, Catch::StartsWith("tspctl: permission denied: cannot connect to " + socket_of(broker)));
    broker.stop_expect_clean_exit();
  }
  SECTION("admin group daemon: its members are served, others refused") {
    BrokerSettings settings;
    settings.global_lines = {"admin group daemon"};
    BrokerProcess broker(settings);
    broker.start();
    open_directory(broker);
    struct stat st{};
    REQUIRE(::stat(socket_of(broker).c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0660);
    CHECK(st.st_gid == kDaemonGroup);
    const CommandResult member = tspctl_as(kDaemonUser, kDaemonGroup, {"--socket", socket_of(broker), "--json", "stats"});
    INFO(member.output);
    CHECK(member.exit_status == 0);
    CHECK(json::parse(member.output)["control"]["live_tunnels"] == 0);
    const CommandResult other = tspctl_as(kNobody, kNobody, {"--socket", socket_of(broker), "stats"});
    INFO(other.output);
    CHECK(other.exit_status == 4);
    // Past the file's mode, the daemon's own check answers with the reason.
    REQUIRE(::chmod(socket_of(broker).c_str(), 0666) == 0);
    const CommandResult refused = tspctl_as(kNobody, kNobody, {"--socket", socket_of(broker), "stats"});
    INFO(refused.output);
    CHECK(refused.exit_status == 4);
    CHECK(refused.output == "tspctl: permission denied: tspctl needs root or group daemon\n");
    broker.stop_expect_clean_exit();
  }
}

}  // namespace tsp::e2e
