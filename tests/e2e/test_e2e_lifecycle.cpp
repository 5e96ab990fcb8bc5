// The daemon's lifecycle (issue 5): SIGHUP re-reads the configuration (new pools serve at
// once; a broken file or a change that needs a restart is refused with file:line and the
// running configuration stays), idle tunnels expire and anonymous addresses come back through
// the quarantine a reload may change, SIGTERM drains a session in flight and exits 0, a second
// SIGTERM exits at once, kill -9 and a restart bring the tunnels back from the store, and no
// password reaches the log even at trace level. A service manager (systemd, Type=notify) is
// told when the daemon is ready, reloading and stopping.
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "shared/net_types.hpp"
#include "tests/e2e/broker_process.hpp"
#include "tests/e2e/tsp_dialogs.hpp"

namespace tsp::e2e {
namespace {

using namespace std::chrono_literals;

constexpr const char* kUser = "carol";
constexpr const char* kPassword = "Lifecycle-pw-4711";
// ::0 is never handed out and ::1 is the server: two clients fit.
constexpr const char* kTinyEndpointsPool = "2001:db8:f001:1::/126 128";

void write_config(const BrokerProcess& b, const std::string& text) {
  std::ofstream(b.config_path(), std::ios::trunc) << text;
}

std::string replace_once(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

// 1-based line of the first line of `text` that contains `needle`.
int line_of(const std::string& text, const std::string& needle) {
  const auto at = text.find(needle);
  REQUIRE(at != std::string::npos);
  int line = 1;
  for (size_t i = 0; i < at; ++i) line += text[i] == '\n';
  return line;
}

// Waits until the daemon's log, after byte `from`, contains `needle`.
bool log_shows(const BrokerProcess& b, size_t from, const std::string& needle, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const std::string log = b.log_text();
    if (log.size() > from && log.find(needle, from) != std::string::npos) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(50ms);
  }
}

size_t count_of(const std::string& text, const std::string& needle, size_t from = 0) {
  size_t n = 0;
  for (auto at = text.find(needle, from); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// The service manager's end of sd_notify: a datagram socket the daemon finds through
// NOTIFY_SOCKET (BrokerProcess passes TSP_E2E_NOTIFY_SOCKET on under that name).
class NotifyListener {
 public:
  explicit NotifyListener(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    REQUIRE(path.size() < sizeof sa.sun_path);
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    REQUIRE(::bind(fd_, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0);
    ::setenv("TSP_E2E_NOTIFY_SOCKET", path.c_str(), 1);
  }
  ~NotifyListener() {
    ::unsetenv("TSP_E2E_NOTIFY_SOCKET");
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  NotifyListener(const NotifyListener&) = delete;
  NotifyListener& operator=(const NotifyListener&) = delete;

  // The next message, or "" when none came within `timeout`.
  std::string next(std::chrono::seconds timeout = 10s) {
    const timeval tv{static_cast<time_t>(timeout.count()), 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  }

 private:
  std::string path_;
  int fd_ = -1;
};

// SIGHUP, then the daemon's verdict: true when it reloaded, false when it refused.
bool sighup(BrokerProcess& b) {
  const size_t from = b.log_text().size();
  b.send_signal(SIGHUP);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  for (;;) {
    const std::string log = b.log_text();
    if (log.find(" reloaded (", from) != std::string::npos) return true;
    if (log.find("reload refused", from) != std::string::npos) return false;
    if (std::chrono::steady_clock::now() >= deadline) FAIL("no reload verdict in the log 10 s after SIGHUP");
    std::this_thread::sleep_for(20ms);
  }
}

struct Host {
  std::string address = unique_loopback_source();
  RudpClient udp;
  explicit Host(uint16_t port) : udp(port, address) {}
  TunnelRequestSpec spec() const {
    TunnelRequestSpec s;
    s.client_ipv4 = address;
    s.type = "v6v4";  // proto-41: nothing on the control socket keeps it alive without a dataplane
    return s;
  }
};

// An anonymous v6v4 tunnel from a fresh address: its IPv6 address, or the refusal's status.
std::pair<int, std::string> anonymous_tunnel(uint16_t port) {
  Host h(port);
  udp_hello(h.udp);
  udp_login_anonymous(h.udp);
  const FramedReply reply = udp_create(h.udp, h.spec());
  if (reply.status != 200) return {reply.status, {}};
  const OfferFields offer = require_offer(reply);
  udp_accept(h.udp);
  return {200, offer.client_ipv6};
}

}  // namespace

TEST_CASE("SIGHUP with a new prefix pool: a client gets a prefix from it", "[e2e][lifecycle]") {
  BrokerSettings settings;
  BrokerProcess b(settings);
  b.start();
  b.add_user(kUser, kPassword);
  TunnelRequestSpec spec;
  spec.router_prefix_length = 56;
  {
    Host h(b.port());
    spec.client_ipv4 = h.address;
    udp_hello(h.udp);
    udp_login_plain(h.udp, kUser, kPassword);
    INFO("no pool hands out /56 yet");
    CHECK(udp_create(h.udp, spec).status != 200);
  }
  std::string text = broker_config_text(settings, b.port(), b.dir());
  text = "ipv6 local pool P_Sites56 2001:db8:f300::/40 56\n" + text;
  text = replace_once(text, "  ipv6 pool prefix P_Sites64\n", "  ipv6 pool prefix P_Sites64\n  ipv6 pool prefix P_Sites56\n");
  write_config(b, text);
  REQUIRE(sighup(b));
  CHECK(b.log_text().find("pool P_Sites56 added") != std::string::npos);

  Host h(b.port());
  spec.client_ipv4 = h.address;
  udp_hello(h.udp);
  udp_login_plain(h.udp, kUser, kPassword);
  const OfferFields offer = udp_create_offer(h.udp, spec);
  CHECK(offer.prefix_length == "56");
  const auto prefix = Ipv6Addr::parse(offer.prefix);
  REQUIRE(prefix);
  CHECK(Ipv6Prefix::parse("2001:db8:f300::/40")->contains(*prefix));
  udp_accept(h.udp);
  b.stop_expect_clean_exit();
}

TEST_CASE("SIGHUP with a broken or restart-only config: refused with file:line, still serving",
          "[e2e][lifecycle]") {
  BrokerSettings settings;
  BrokerProcess b(settings);
  b.start();
  b.add_user(kUser, kPassword);
  const std::string good = broker_config_text(settings, b.port(), b.dir());

  SECTION("a statement the language does not have") {
    const std::string broken = good + "this is not a statement\n";
    write_config(b, broken);
    REQUIRE_FALSE(sighup(b));
    const std::string where = b.config_path() + ":" + std::to_string(line_of(broken, "this is not"));
    INFO("the log must name " << where);
    CHECK(b.log_text().find(where) != std::string::npos);
  }
  SECTION("a TSP port change needs a restart") {
    const std::string moved = replace_once(good, "  transport tcp " + std::to_string(b.port()),
                                           "  transport tcp " + std::to_string(b.port() + 1));
    write_config(b, moved);
    REQUIRE_FALSE(sighup(b));
    const std::string where = b.config_path() + ":" + std::to_string(line_of(moved, "transport tcp")) +
                              ": 'transport tcp' changed";
    INFO("the log must say " << where);
    CHECK(b.log_text().find(where) != std::string::npos);
  }
  SECTION("removing a pool a live tunnel uses needs a restart") {
    Host h(b.port());
    TunnelRequestSpec spec;
    spec.client_ipv4 = h.address;
    spec.router_prefix_length = 48;
    udp_hello(h.udp);
    udp_login_plain(h.udp, kUser, kPassword);
    udp_create_offer(h.udp, spec);
    udp_accept(h.udp);
    std::string smaller = replace_once(good, "ipv6 local pool P_Sites48 2001:db8:f100::/40 48\n", "");
    smaller = replace_once(smaller, "  ipv6 pool prefix P_Sites48\n", "");
    write_config(b, smaller);
    REQUIRE_FALSE(sighup(b));
    CHECK(b.log_text().find("pool 'P_Sites48' (" + b.config_path() + ":2) is used by 1 live tunnel(s)") !=
          std::string::npos);
  }
  require_fresh_sessions_work(b.port());
  // The running configuration stayed: the file put right reloads.
  write_config(b, good);
  CHECK(sighup(b));
  b.stop_expect_clean_exit();
}

TEST_CASE("idle tunnels expire; anonymous addresses come back through a quarantine a reload changes",
          "[e2e][lifecycle]") {
  BrokerSettings settings;
  settings.endpoints_pool = kTinyEndpointsPool;
  settings.tsp_lines = {"keepalive missed 1"};
  BrokerProcess b(settings);
  const std::string with_quarantine = [&] {
    std::string t = broker_config_text(settings, b.port(), b.dir());
    t = replace_once(t, "  keepalive interval 30\n", "  keepalive interval 5\n");
    return replace_once(t, "  ipv6 dns-server 2001:db8::53\n", "  ipv6 dns-server 2001:db8::53\n  quarantine 0\n");
  }();
  write_config(b, with_quarantine);
  b.start();

  // Quarantine 0: both addresses used, both expire, and both come back at once.
  const auto a = anonymous_tunnel(b.port());
  const auto c = anonymous_tunnel(b.port());
  REQUIRE(a.first == 200);
  REQUIRE(c.first == 200);
  CHECK(anonymous_tunnel(b.port()).first != 200);  // the pool is full
  INFO("keepalive interval 5, missed 1: silent tunnels expire after about 6 s");
  REQUIRE(log_shows(b, 0, "silent for 1 keepalive intervals", 15s));
  std::this_thread::sleep_for(1500ms);  // the sweep runs each second: both are gone now
  REQUIRE(count_of(b.log_text(), "silent for 1 keepalive intervals") == 2);
  const auto again1 = anonymous_tunnel(b.port());
  const auto again2 = anonymous_tunnel(b.port());
  REQUIRE(again1.first == 200);
  REQUIRE(again2.first == 200);
  CHECK(((again1.second == a.second && again2.second == c.second) ||
         (again1.second == c.second && again2.second == a.second)));

  // Quarantine 3600 by a reload: the next expiries keep both addresses out of the pool.
  write_config(b, replace_once(with_quarantine, "  quarantine 0\n", "  quarantine 3600\n"));
  REQUIRE(sighup(b));
  CHECK(b.log_text().find("reload: quarantine: 0 -> 3600") != std::string::npos);
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (count_of(b.log_text(), "silent for 1 keepalive intervals") < 4 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  REQUIRE(count_of(b.log_text(), "silent for 1 keepalive intervals") == 4);
  CHECK(anonymous_tunnel(b.port()).first != 200);
  b.stop_expect_clean_exit();
}

TEST_CASE("systemd Type=notify: ready once serving, reloading around SIGHUP, stopping at SIGTERM",
          "[e2e][lifecycle][systemd]") {
  BrokerProcess b;
  NotifyListener manager(b.dir() + "/notify.sock");
  b.start();
  const std::string ready = manager.next();
  CHECK(ready == "READY=1\nSTATUS=serving, 0 tunnel(s) live");
  INFO("ready means serving: a tunnel can be had at once");
  CHECK(anonymous_tunnel(b.port()).first == 200);

  REQUIRE(sighup(b));
  CHECK(manager.next() == "RELOADING=1\nSTATUS=reloading the configuration");
  CHECK(manager.next() == "READY=1\nSTATUS=configuration reloaded, 1 tunnel(s) live");
  write_config(b, "broken\n");
  REQUIRE_FALSE(sighup(b));
  CHECK(manager.next() == "RELOADING=1\nSTATUS=reloading the configuration");
  const std::string refused = manager.next();
  CHECK(refused.find("READY=1\nSTATUS=reload refused, the running configuration stays: ") == 0);
  CHECK(refused.find(b.config_path() + ":1:") != std::string::npos);

  b.send_signal(SIGTERM);
  CHECK(manager.next() == "STOPPING=1\nSTATUS=shutting down (SIGTERM), 0 unfinished session(s)");
  CHECK(b.wait_exit(10s) == 0);
}

TEST_CASE("SIGTERM drains: a session in flight finishes, then exit 0", "[e2e][lifecycle]") {
  BrokerProcess b;
  b.start();
  TunnelRequestSpec spec;
  spec.client_ipv4 = unique_loopback_source();
  TcpClient c(b.port(), spec.client_ipv4);
  tcp_hello(c);
  tcp_login_anonymous(c);
  const size_t from = b.log_text().size();
  b.send_signal(SIGTERM);
  REQUIRE(log_shows(b, from, "shutting down; no new TSP sessions, 1 unfinished session(s)"));
  INFO("the session in progress still gets its tunnel");
  const OfferFields offer = tcp_create_offer(c, spec);
  CHECK_FALSE(offer.client_ipv6.empty());
  c.send(kAccept);
  INFO("once the tunnel is up nothing holds the drain: the daemon stops and closes the connection");
  CHECK(c.wait_closed_by_peer(5s));
  const int status = b.wait_exit(10s);
  CHECK(status == 0);
  const std::string log = b.log_text();
  CHECK(log.find("tunnel counters: offers=1 commits=1", from) != std::string::npos);
  CHECK(log.find("tspbrokerd stopped", from) != std::string::npos);
}

TEST_CASE("a second SIGTERM exits at once", "[e2e][lifecycle]") {
  BrokerProcess b;
  b.start();
  TcpClient c(b.port(), unique_loopback_source());
  tcp_hello(c);  // unfinished: the drain would wait for it
  const size_t from = b.log_text().size();
  b.send_signal(SIGTERM);
  REQUIRE(log_shows(b, from, "shutting down"));
  b.send_signal(SIGTERM);
  const auto t0 = std::chrono::steady_clock::now();
  const int status = b.wait_exit(5s);
  CHECK(status == 1);
  CHECK(std::chrono::steady_clock::now() - t0 < 1500ms);
  CHECK(b.log_text().find("while draining: exiting now", from) != std::string::npos);
}

TEST_CASE("kill -9 and a restart bring the live tunnels back from the store", "[e2e][lifecycle]") {
  BrokerProcess b;
  b.start();
  b.add_user(kUser, kPassword);
  const auto anonymous = anonymous_tunnel(b.port());
  REQUIRE(anonymous.first == 200);
  {
    TunnelRequestSpec spec;
    spec.client_ipv4 = unique_loopback_source();
    TcpClient c(b.port(), spec.client_ipv4);
    tcp_hello(c);
    tcp_login_plain(c, kUser, kPassword);
    tcp_create_offer(c, spec);
    tcp_accept(c);
  }
  std::this_thread::sleep_for(200ms);  // the accept is answered before nothing: let it land
  b.kill_hard();
  const size_t from = b.log_text().size();
  b.start();
  REQUIRE(log_shows(b, from, "2 live tunnel(s) reloaded"));
  INFO("the reloaded anonymous tunnel keeps its address: a newcomer gets another one");
  const auto newcomer = anonymous_tunnel(b.port());
  REQUIRE(newcomer.first == 200);
  CHECK(newcomer.second != anonymous.second);
  b.stop_expect_clean_exit();
  CHECK(b.log_text().find("live=3", from) != std::string::npos);
}

TEST_CASE("no password in the log, even at trace level", "[e2e][lifecycle]") {
  BrokerSettings settings;
  settings.global_lines = {"log level trace"};
  BrokerProcess b(settings);
  b.start();
  b.add_user(kUser, kPassword);
  {
    RudpClient c(b.port(), unique_loopback_source());
    udp_hello(c);
    udp_login_plain(c, kUser, kPassword);
  }
  {
    TcpClient c(b.port(), unique_loopback_source());
    tcp_hello(c);
    tcp_login_plain(c, kUser, kPassword);
  }
  {
    RudpClient c(b.port(), unique_loopback_source());
    udp_hello(c);
    udp_login_digest(c, kUser, kPassword, b.port());
  }
  {
    TcpClient c(b.port(), unique_loopback_source());
    tcp_hello(c);
    tcp_login_digest(c, kUser, kPassword, b.port());
  }
  {
    // Credentials out of turn (no VERSION first): refused, and not echoed in the log.
    TcpClient c(b.port(), unique_loopback_source());
    c.send(std::string(kUser) + '\0' + kUser + '\0' + kPassword + "\r\n");
    c.wait_closed_by_peer(2s);
  }
  {
    RudpClient c(b.port(), unique_loopback_source());
    udp_hello(c);
    const RudpReply ack = c.request("AUTHENTICATE PLAIN\r\n");
    (void)ack;
    const RudpReply refused = c.request(std::string(kUser) + '\0' + kUser + '\0' + kPassword + "-wrong");
    CHECK(refused.payload.rfind("300 ", 0) == 0);
  }
  b.stop_expect_clean_exit();
  const std::string log = b.log_text();
  INFO("the log must show the logins (else this test proves nothing)");
  CHECK(count_of(log, "authenticated PLAIN as 'carol'") == 2);
  CHECK(count_of(log, "authenticated DIGEST-MD5 as 'carol'") == 2);
  CHECK(log.find("PLAIN authentication failed for 'carol': wrong password") != std::string::npos);
  INFO("and never the password");
  CHECK(log.find(kPassword) == std::string::npos);
}

}  // namespace tsp::e2e
