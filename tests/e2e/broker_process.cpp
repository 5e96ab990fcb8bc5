#include "tests/e2e/broker_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <iostream>
#include <sstream>
#include <thread>

extern char** environ;

namespace tsp::e2e {
namespace {

using namespace std::chrono_literals;

std::vector<BrokerProcess*>& broker_registry() {
  static std::vector<BrokerProcess*> brokers;
  return brokers;
}

sockaddr_in loopback(uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return sa;
}

// Binds a socket of `type` to 127.0.0.1:port; returns the fd (and the port chosen) or -1.
int bind_loopback(int type, uint16_t& port) {
  const int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in sa = loopback(port);
  socklen_t len = sizeof sa;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
    ::close(fd);
    return -1;
  }
  port = ntohs(sa.sin_port);
  return fd;
}

bool tcp_port_accepts(const std::string& address, uint16_t port) {
  sockaddr_in sa = loopback(port);
  if (::inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1) FAIL("not an IPv4 address: " << address);
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0;
  ::close(fd);
  return ok;
}

int decode_wait_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Waits for `pid` up to `timeout`; the decoded status, or nullopt while it still runs.
std::optional<int> wait_for_exit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return decode_wait_status(status);
    if (r < 0 && errno != EINTR) return -1;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(10ms);
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Our environment, plus sanitizer options that make undefined behaviour in the daemon fatal
// when the caller (meson test sets its own) did not choose any. A NOTIFY_SOCKET of whatever
// runs the tests is not passed on (a test daemon must not tell a real service manager it is
// ready or stopping); a test's own goes as TSP_E2E_NOTIFY_SOCKET.
std::vector<std::string> child_environment() {
  std::vector<std::string> env;
  bool has_ubsan = false;
  for (char** e = environ; *e; ++e) {
    const std::string_view var(*e);
    if (var.rfind("NOTIFY_SOCKET=", 0) == 0) continue;
    if (var.rfind("TSP_E2E_NOTIFY_SOCKET=", 0) == 0) {
      env.emplace_back(var.substr(std::string_view("TSP_E2E_").size()));
      continue;
    }
    env.emplace_back(var);
    if (env.back().rfind("UBSAN_OPTIONS=", 0) == 0) has_ubsan = true;
  }
  if (!has_ubsan) env.emplace_back("UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1");
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// posix_spawn with stdout+stderr appended to `output_file` and stdin from `stdin_fd`
// (-1: /dev/null). Fails the test if the program cannot be started.
pid_t spawn(std::vector<std::string> argv, int stdin_fd, const std::string& output_file) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (stdin_fd >= 0)
    posix_spawn_file_actions_adddup2(&actions, stdin_fd, 0);
  else
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, output_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 2, 1);
  std::vector<std::string> env = child_environment();
  std::vector<char*> c_argv = c_strings(argv);
  std::vector<char*> c_env = c_strings(env);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, c_argv[0], &actions, nullptr, c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) FAIL("cannot start " << argv[0] << ": " << std::strerror(rc));
  return pid;
}

bool has_sanitizer_report(const std::string& log) {
  return log.find("ERROR: AddressSanitizer") != std::string::npos ||
         log.find("ERROR: LeakSanitizer") != std::string::npos || log.find("runtime error:") != std::string::npos;
}

}  // namespace

const std::vector<BrokerProcess*>& live_brokers() { return broker_registry(); }

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "tspbroker-e2e-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) FAIL("mkdtemp: " << std::strerror(errno));
  path_ = pattern;
}

TempDir::~TempDir() {
  if (std::getenv("TSP_E2E_KEEP")) return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

uint16_t pick_free_port() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    uint16_t port = 0;
    const int tcp = bind_loopback(SOCK_STREAM, port);
    if (tcp < 0) continue;
    const int udp = bind_loopback(SOCK_DGRAM, port);
    ::close(tcp);
    if (udp < 0) continue;
    ::close(udp);
    return port;
  }
  FAIL("no port free for both UDP and TCP on 127.0.0.1");
  return 0;
}

std::string broker_config_text(const BrokerSettings& s, uint16_t port, const std::string& dir) {
  const std::string p = std::to_string(port);
  std::string c;
  c += "ipv6 local pool P_Interco " + s.endpoints_pool + "\n";
  c += "ipv6 local pool P_Sites48 2001:db8:f100::/40 48\n";
  c += "ipv6 local pool P_Sites64 2001:db8:f200::/48 64\n";
  c += "tsp TSP_Main\n";
  c += "  ip address " + s.listen_address + "\n";
  c += "  transport udp " + p + "\n";
  c += "  transport tcp " + p + "\n";
  c += "  realm tspbroker\n";
  c += "  keepalive interval 30\n";
  for (const auto& line : s.tsp_lines) c += "  " + line + "\n";
  c += "tunnel server TS_Main\n";
  c += "  ip address " + s.listen_address + "\n";
  c += "  ipv6 pool endpoints P_Interco\n";
  c += "  ipv6 pool prefix P_Sites48\n";
  c += "  ipv6 pool prefix P_Sites64\n";
  c += "  ipv6 dns-server 2001:db8::53\n";
  c += "tunnel broker TB_Main\n";
  c += "  set tsp TSP_Main\n";
  c += "  set tunnel server TS_Main\n";
  for (const auto& line : s.broker_lines) c += "  " + line + "\n";
  c += "store sqlite " + dir + "/tspbroker.db\n";
  // Each broker its own admin socket: tspctl must never reach another test's daemon.
  c += "admin socket " + dir + "/tspbrokerd.sock\n";
  for (const auto& line : s.global_lines) c += line + "\n";
  return c;
}

std::string required_program(const char* env_name) {
  const char* value = std::getenv(env_name);
  if (!value || !*value)
    FAIL(env_name << " is not set: run this test through `meson test e2e_tsp`, or set " << env_name
                  << " to the program's path");
  if (::access(value, X_OK) != 0) FAIL(env_name << "=" << value << " is not an executable file");
  return value;
}

CommandResult run_command(const std::vector<std::string>& argv, std::string_view stdin_text,
                          const std::string& output_file) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) FAIL("pipe: " << std::strerror(errno));
  { std::ofstream truncate(output_file, std::ios::trunc); }
  const pid_t pid = spawn(argv, pipe_fds[0], output_file);
  ::close(pipe_fds[0]);
  // A short password fits the pipe buffer, so this write cannot block on the child.
  const ssize_t written = ::write(pipe_fds[1], stdin_text.data(), stdin_text.size());
  ::close(pipe_fds[1]);
  CommandResult result;
  const auto status = wait_for_exit(pid, 60s);
  if (!status) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    FAIL(argv[0] << " did not finish within 60 s");
  }
  result.exit_status = *status;
  result.output = read_file(output_file);
  if (written != static_cast<ssize_t>(stdin_text.size()))
    result.output += "\n[e2e: stdin write was short: the program did not read its input]";
  return result;
}

BrokerProcess::BrokerProcess(BrokerSettings settings)
    : listen_address_(settings.listen_address), port_(settings.port != 0 ? settings.port : pick_free_port()) {
  config_path_ = dir_.path() + "/tspbrokerd.conf";
  log_path_ = dir_.path() + "/tspbrokerd.log";
  std::ofstream(config_path_) << broker_config_text(settings, port_, dir_.path());
  broker_registry().push_back(this);
}

BrokerProcess::~BrokerProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    if (!wait_for_exit(pid_, 20s)) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  auto& all = broker_registry();
  all.erase(std::remove(all.begin(), all.end(), this), all.end());
  if (failure_seen_) print_log_tail();
}

void BrokerProcess::start() {
  REQUIRE(pid_ < 0);
  const std::string program = required_program("TSPBROKERD");
  ++starts_;
  std::ofstream(log_path_, std::ios::app) << "==== e2e: start #" << starts_ << " of tspbrokerd on " << listen_address_
                                           << " port " << port_ << " ====\n";
  pid_ = spawn({program, "--config", config_path_}, -1, log_path_);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!tcp_port_accepts(listen_address_, port_)) {
    if (const auto status = wait_for_exit(pid_, 0ms)) {
      pid_ = -1;
      FAIL("tspbrokerd exited with status " << *status << " before it listened on " << listen_address_ << " port "
                                            << port_);
    }
    if (std::chrono::steady_clock::now() >= deadline)
      FAIL("tspbrokerd does not accept TCP on " << listen_address_ << " port " << port_ << " after 10 s");
    std::this_thread::sleep_for(20ms);
  }
  // TCP listens before the admin socket and the metrics server exist: tests that use those
  // right away wait for the daemon's "ready", which it logs once everything is up.
  const std::string marker = "==== e2e: start #" + std::to_string(starts_) + " ";
  while (true) {
    const std::string log = log_text();
    const auto at = log.rfind(marker);
    if (at != std::string::npos && log.find("tspbrokerd ready", at) != std::string::npos) return;
    if (std::chrono::steady_clock::now() >= deadline) FAIL("tspbrokerd did not log \"ready\" within 10 s");
    std::this_thread::sleep_for(10ms);
  }
}

int BrokerProcess::stop() {
  if (pid_ < 0) return -1;
  ::kill(pid_, SIGTERM);
  auto status = wait_for_exit(pid_, 20s);
  if (!status) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    status = -1;
  }
  pid_ = -1;
  return *status;
}

void BrokerProcess::stop_expect_clean_exit() {
  const int status = stop();
  INFO("tspbrokerd must exit 0 after SIGTERM (-1: it had to be killed; 128+N: signal N)");
  CHECK(status == 0);
  INFO("the daemon's log must hold no sanitizer report");
  CHECK_FALSE(has_sanitizer_report(log_text()));
}

bool BrokerProcess::is_running() {
  if (pid_ < 0) return false;
  if (const auto status = wait_for_exit(pid_, 0ms)) {
    std::ofstream(log_path_, std::ios::app) << "==== e2e: tspbrokerd exited on its own, status " << *status << " ====\n";
    pid_ = -1;
    return false;
  }
  return true;
}

void BrokerProcess::send_signal(int sig) {
  REQUIRE(pid_ > 0);
  ::kill(pid_, sig);
}

int BrokerProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (pid_ < 0) return -1;
  const auto status = wait_for_exit(pid_, timeout);
  if (!status) return -1;
  pid_ = -1;
  return *status;
}

void BrokerProcess::kill_hard() {
  REQUIRE(pid_ > 0);
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
  std::ofstream(log_path_, std::ios::app) << "==== e2e: tspbrokerd killed (SIGKILL) ====\n";
}

std::string BrokerProcess::log_text() const { return read_file(log_path_); }

bool BrokerProcess::log_shows(std::string_view text, std::chrono::milliseconds within) const {
  const auto deadline = std::chrono::steady_clock::now() + within;
  for (;;) {
    if (log_text().find(text) != std::string::npos) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

void BrokerProcess::print_log_tail() const {
  const std::string log = log_text();
  if (log.empty()) return;  // never started
  size_t start = log.size();
  for (int lines = 0; start > 0 && lines < 80; --start)
    if (log[start - 1] == '\n') ++lines;
  std::cout.flush();  // after the failure report that the test framework wrote to stdout
  std::cerr << "---- last lines of " << log_path_ << " (" << listen_address_ << " port " << port_ << ") ----\n"
            << log.substr(start) << "---- end of tspbrokerd log ----\n";
  std::cerr.flush();
}

CommandResult BrokerProcess::tspctl(const std::vector<std::string>& args, std::string_view stdin_text) {
  std::vector<std::string> argv{required_program("TSPCTL"), "--config", config_path_};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, stdin_text, dir_.path() + "/tspctl.out");
}

void BrokerProcess::add_user(const std::string& name, const std::string& password) {
  const CommandResult r = tspctl({"user", "add", name}, password + "\n");
  INFO("tspctl user add " << name << " said: " << r.output);
  REQUIRE(r.exit_status == 0);
}

}  // namespace tsp::e2e
