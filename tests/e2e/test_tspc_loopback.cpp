// tspc against the real tspbrokerd on loopback. Each process enters a private network
// namespace first (tspc makes a TUN device: root; CI runs as root), so nothing leaks to the
// host: the namespace, its interfaces and the daemons' sockets go when the test exits.
//
//   [ private netns: lo 127.0.0.1 ]  tspbrokerd (UDP+TCP :port)  <-- TSP -->  tspc -n -b
//                                    TUN "tspe2e0" (user-space v6v4 end, no sit here)
//
// The redirection case runs a second broker; all of 127/8 is on lo, and 3653 (the port a
// redirect implies) is free in the namespace:
//
//   tspc --(1)--> tspbrokerd A 127.0.0.1:port   full ("limit tunnels 1"): 1200, "127.0.0.2"
//        --(2)--> tspbrokerd B 127.0.0.2:3653   gives the tunnel; tspc remembers the list and B
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/e2e/broker_process.hpp"
#include "tools/tunnel/rtnetlink.hpp"

extern char** environ;

namespace {

using namespace std::chrono_literals;
using tsp::e2e::BrokerProcess;
using tsp::e2e::BrokerSettings;

constexpr const char* kTun = "tspe2e0";

void enter_private_netns() {
  static bool entered = false;
  if (entered) return;
  if (::geteuid() != 0) FAIL("tspc makes a TUN device: this test needs root (CI runs as root)");
  if (::unshare(CLONE_NEWNET) != 0) FAIL("unshare(CLONE_NEWNET): " << std::strerror(errno));
  tsp::tunnel::RtNetlink().set_link_up(::if_nametoindex("lo"));
  entered = true;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The files tspc remembers brokers in: in the test's directory, never tspc's working directory.
std::string broker_list_path(const BrokerProcess& broker) { return broker.dir() + "/tsp-broker-list.txt"; }
std::string last_server_path(const BrokerProcess& broker) { return broker.dir() + "/tsp-last-server.txt"; }

std::string key_of(const std::string& line) { return line.substr(0, line.find('=')); }

// tspc.conf for `broker`, written as broker.dir()/name. A key given in `extra` replaces the
// default one: tspc refuses a repeated key.
std::string write_config(const BrokerProcess& broker, const std::vector<std::string>& extra,
                         const std::string& name = "tspc.conf") {
  const std::vector<std::string> defaults{
      "server=" + broker.listen_address() + ":" + std::to_string(broker.port()),
      "template=checktunnel",
      std::string("tsp_dir=") + TSP_SOURCE_DIR + "/tools/tspc",
      std::string("if_tunnel_v6v4=") + kTun,
      std::string("if_tunnel_v6udpv4=") + kTun,
      "retry_delay=0",
      "auto_retry_connect=no",
      "log_filename=" + broker.dir() + "/tspc.log",
      "broker_list=" + broker_list_path(broker),
      "last_server=" + last_server_path(broker),
  };
  const std::string path = broker.dir() + "/" + name;
  std::ofstream out(path);
  for (const auto& line : defaults) {
    const bool replaced = std::any_of(extra.begin(), extra.end(),
                                      [&](const std::string& e) { return key_of(e) == key_of(line); });
    if (!replaced) out << line << "\n";
  }
  for (const auto& line : extra) out << line << "\n";
  return path;
}

// tspc -n -b -vvv -f CONFIG, output into a file.
class TspcProcess {
 public:
  TspcProcess(const std::string& config, const std::string& output) : output_(output) {
    const std::string program = tsp::e2e::required_program("TSPC");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::vector<std::string> args{program, "-n", "-b", "-vvv", "-f", config};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = ::posix_spawn(&pid_, program.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(rc == 0);
  }
  ~TspcProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  TspcProcess(const TspcProcess&) = delete;
  TspcProcess& operator=(const TspcProcess&) = delete;

  std::string output() const { return read_file(output_); }
  bool wait_for_output(const std::string& text, std::chrono::seconds limit) const {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (output().find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
  void signal(int number) const { ::kill(pid_, number); }
  // Exit code, 128 + signal, or -1 when it did not end within `limit`.
  int wait_exit(std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(50ms);
    }
    return -1;
  }

 private:
  std::string output_;
  pid_t pid_ = -1;
};

// Waits until tspc's tunnel is up (the last_server line is logged just before); its output.
std::string wait_tunnel_up(const TspcProcess& tspc) {
  const bool up = tspc.wait_for_output("tunnel up:", 20s);
  tspc.wait_for_output("last server saved to", 5s);
  const std::string out = tspc.output();
  INFO(out);
  REQUIRE(up);
  return out;
}

// SIGHUP: teardown, exit 0.
void hang_up(TspcProcess& tspc) {
  tspc.signal(SIGHUP);
  CHECK(tspc.wait_exit(10s) == 0);
}

}  // namespace

TEST_CASE("tspc: anonymous tunnel, template variables, SIGHUP teardown", "[tspc][e2e]") {
  enter_private_netns();
  BrokerProcess broker;
  broker.start();
  const std::string config = write_config(broker, {"auth_method=anonymous", "tunnel_mode=v6anyv4"});
  TspcProcess tspc(config, broker.dir() + "/tspc.out");
  const bool up = tspc.wait_for_output("tunnel up:", 20s);
  INFO(tspc.output());
  REQUIRE(up);
  const std::string out = tspc.output();
  CHECK(out.find("sent: VERSION=2.0.2") != std::string::npos);
  CHECK(out.find("AUTHENTICATE ANONYMOUS") != std::string::npos);
  CHECK(out.find("checktunnel.sh: TSP_OPERATION=TSP_TUNNEL_CREATION") != std::string::npos);
  CHECK(out.find("checktunnel.sh: TSP_TUNNEL_MODE=v6v4") != std::string::npos);  // no NAT on loopback
  CHECK(out.find(std::string("checktunnel.sh: TSP_TUNNEL_INTERFACE=") + kTun) != std::string::npos);
  CHECK(out.find("checktunnel.sh: TSP_CLIENT_ADDRESS_IPV6=2001:db8:f001:1::") != std::string::npos);
  CHECK(::if_nametoindex(kTun) != 0);

  tspc.signal(SIGHUP);
  CHECK(tspc.wait_exit(10s) == 0);
  const std::string after = tspc.output();
  CHECK(after.find("checktunnel.sh: TSP_OPERATION=TSP_TUNNEL_TEARDOWN") != std::string::npos);
  CHECK(::if_nametoindex(kTun) == 0);  // the TUN device went with tspc
  broker.stop_expect_clean_exit();
}

TEST_CASE("tspc: DIGEST-MD5 user, v6udpv4; SIGTERM exits without teardown", "[tspc][e2e]") {
  enter_private_netns();
  BrokerProcess broker;
  broker.start();
  broker.add_user("alice", "pw-alice");
  const std::string config =
      write_config(broker, {"auth_method=digest-md5", "userid=alice", "passwd=pw-alice", "tunnel_mode=v6udpv4"});
  TspcProcess tspc(config, broker.dir() + "/tspc.out");
  const bool up = tspc.wait_for_output("tunnel up:", 20s);
  INFO(tspc.output());
  REQUIRE(up);
  const std::string out = tspc.output();
  CHECK(out.find("authenticating with DIGEST-MD5") != std::string::npos);
  CHECK(out.find("TSP_TUNNEL_MODE=v6udpv4") != std::string::npos);
  CHECK(out.find("pw-alice") == std::string::npos);  // the password never reaches the log
  tspc.signal(SIGTERM);
  CHECK(tspc.wait_exit(10s) == 128 + SIGTERM);
  CHECK(tspc.output().find("TSP_TUNNEL_TEARDOWN") == std::string::npos);
  broker.stop_expect_clean_exit();
}

TEST_CASE("tspc: auth_method=any picks tspbrokerd's SCRAM-SHA-256", "[tspc][e2e]") {
  enter_private_netns();
  BrokerProcess broker;
  broker.start();
  broker.add_user("carol", "pw-carol");
  const std::string config = write_config(broker, {"userid=carol", "passwd=pw-carol", "tunnel_mode=v6anyv4"});
  TspcProcess tspc(config, broker.dir() + "/tspc.out");
  const bool up = tspc.wait_for_output("tunnel up:", 20s);
  INFO(tspc.output());
  REQUIRE(up);
  const std::string out = tspc.output();
  CHECK(out.find("AUTH=SCRAM-SHA-256") != std::string::npos);
  CHECK(out.find("authenticating with SCRAM-SHA-256") != std::string::npos);
  CHECK(out.find("pw-carol") == std::string::npos);
  CHECK(broker.log_shows("authenticated SCRAM-SHA-256 as 'carol'"));
  tspc.signal(SIGTERM);
  CHECK(tspc.wait_exit(10s) == 128 + SIGTERM);
  broker.stop_expect_clean_exit();
}

TEST_CASE("tspc: wrong password in boot mode exits 16; v4v6 exits 15", "[tspc][e2e]") {
  enter_private_netns();
  BrokerProcess broker;
  broker.start();
  broker.add_user("bob", "right");
  {
    TspcProcess tspc(write_config(broker, {"userid=bob", "passwd=wrong"}), broker.dir() + "/tspc.out");
    const int code = tspc.wait_exit(30s);
    INFO(tspc.output());
    CHECK(code == 16);
  }
  {
    TspcProcess tspc(write_config(broker, {"auth_method=anonymous", "tunnel_mode=v4v6"}), broker.dir() + "/tspc2.out");
    CHECK(tspc.wait_exit(10s) == 15);
  }
  broker.stop_expect_clean_exit();
}

TEST_CASE("tspc: a redirection is remembered in broker_list and last_server", "[tspc][e2e]") {
  enter_private_netns();
  BrokerSettings b_settings;
  b_settings.listen_address = "127.0.0.2";
  b_settings.port = 3653;
  BrokerProcess b(b_settings);
  b.start();
  // A holds one tunnel and redirects every request beyond it (an endpoints pool is at least a
  // /126, two clients: "limit tunnels 1" needs only one filler).
  BrokerSettings a_settings;
  a_settings.global_lines.push_back("limit tunnels 1");
  a_settings.broker_lines.push_back("redirect broker 127.0.0.2");
  BrokerProcess a(a_settings);
  a.start();
  const std::string list_file = broker_list_path(a);
  const std::string last_file = last_server_path(a);
  const std::string a_text = "127.0.0.1:" + std::to_string(a.port());

  // The filler's v6udpv4 tunnel is keyed by address and port, so run 1's v6v4 request from the
  // same 127.0.0.1 is not a reconnection that may replace it, only one tunnel too many. Its own
  // files and TUN: it must not write the ones the runs check.
  TspcProcess filler(write_config(a,
                                  {"auth_method=anonymous", "tunnel_mode=v6udpv4", "if_tunnel_v6udpv4=tspe2e1",
                                   "log_filename=" + a.dir() + "/filler.log",
                                   "broker_list=" + a.dir() + "/filler-broker-list.txt",
                                   "last_server=" + a.dir() + "/filler-last-server.txt"},
                                  "filler.conf"),
                     a.dir() + "/filler.out");
  {
    const bool up = filler.wait_for_output("tunnel up:", 20s);
    INFO(filler.output());
    REQUIRE(up);
  }

  const std::vector<std::string> anonymous{"auth_method=anonymous", "tunnel_mode=v6anyv4"};
  {
    INFO("run 1: A redirects to B; tspc saves the list and B");
    TspcProcess tspc(write_config(a, anonymous, "run1.conf"), a.dir() + "/run1.out");
    const std::string out = wait_tunnel_up(tspc);
    INFO(out);
    CHECK(contains(out, "redirected by " + a_text + " to 1 broker(s)"));
    CHECK(contains(out, "connecting to 127.0.0.2 (127.0.0.2:3653)"));
    CHECK(contains(out, "broker list saved to " + list_file + " (1 broker(s))"));
    CHECK(read_file(list_file) == "127.0.0.2\n");
    CHECK(contains(out, "last server saved to " + last_file + ": 127.0.0.2"));
    CHECK(read_file(last_file) == "127.0.0.2\n");
    hang_up(tspc);
  }
  hang_up(filler);

  {
    INFO("run 2: always_use_same_server=yes goes to B first, A is never asked");
    std::vector<std::string> extra = anonymous;
    extra.push_back("always_use_same_server=yes");
    TspcProcess tspc(write_config(a, extra, "run2.conf"), a.dir() + "/run2.out");
    const std::string out = wait_tunnel_up(tspc);
    INFO(out);
    CHECK(contains(out, "trying the last server 127.0.0.2 first (always_use_same_server)"));
    const auto first = out.find("connecting to ");
    REQUIRE(first != std::string::npos);
    CHECK(out.substr(first, out.find('\n', first) - first).rfind("connecting to 127.0.0.2 (127.0.0.2:3653)", 0) == 0);
    CHECK_FALSE(contains(out, "redirected by"));
    CHECK(read_file(last_file) == "127.0.0.2\n");
    hang_up(tspc);
  }

  {
    INFO("run 3: the configured server is unreachable; tspc walks the saved broker list");
    // Nothing listens there: on loopback the UDP attempt fails at once (ICMP port unreachable).
    const std::string dead = "127.0.0.1:" + std::to_string(tsp::e2e::pick_free_port());
    std::filesystem::remove(last_file);  // run 3 must write it again
    std::vector<std::string> extra = anonymous;
    extra.push_back("server=" + dead);
    extra.push_back("always_use_same_server=no");
    TspcProcess tspc(write_config(a, extra, "run3.conf"), a.dir() + "/run3.out");
    const std::string out = wait_tunnel_up(tspc);
    INFO(out);
    CHECK(contains(out, "connecting to " + dead));
    CHECK(contains(out, "server " + dead + " unreachable; trying the 1 broker(s) in " + list_file));
    CHECK(contains(out, "connecting to 127.0.0.2 (127.0.0.2:3653)"));
    CHECK(read_file(list_file) == "127.0.0.2\n");
    CHECK(read_file(last_file) == "127.0.0.2\n");
    hang_up(tspc);
  }

  a.stop_expect_clean_exit();
  b.stop_expect_clean_exit();
}
