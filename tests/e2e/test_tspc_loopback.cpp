// tspc against the real tspbrokerd on loopback. Each process enters a private network
// namespace first (tspc makes a TUN device: root; CI runs as root), so nothing leaks to the
// host: the namespace, its interfaces and the daemons' sockets go when the test exits.
//
//   [ private netns: lo 127.0.0.1 ]  tspbrokerd (UDP+TCP :port)  <-- TSP -->  tspc -n -b
//                                    TUN "tspe2e0" (user-space v6v4 end, no sit here)
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/e2e/broker_process.hpp"
#include "tools/tunnel/rtnetlink.hpp"

extern char** environ;

namespace {

using namespace std::chrono_literals;
using tsp::e2e::BrokerProcess;

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

std::string write_config(const BrokerProcess& broker, const std::vector<std::string>& extra) {
  const std::string path = broker.dir() + "/tspc.conf";
  std::ofstream out(path);
  out << "server=127.0.0.1:" << broker.port() << "\n"
      << "template=checktunnel\n"
      << "tsp_dir=" << TSP_SOURCE_DIR << "/tools/tspc\n"
      << "if_tunnel_v6v4=" << kTun << "\nif_tunnel_v6udpv4=" << kTun << "\n"
      << "retry_delay=0\nauto_retry_connect=no\n"
      << "log_filename=" << broker.dir() << "/tspc.log\n";
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
