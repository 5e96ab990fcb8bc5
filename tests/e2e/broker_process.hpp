// Runs the real tspbrokerd (and tspctl) for a test: a temporary directory with a config file
// and the SQLite store, a port free on 127.0.0.1 for both UDP and TCP (or the address and port
// a test asks for, e.g. a redirection target on 127.0.0.2:3653), start with a readiness
// poll, stop with SIGTERM and a check of the exit status (ASan makes a leak a non-zero exit).
// The daemon's stderr goes to a file that is printed when an assertion fails.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tsp::e2e {

// What the tests vary; everything else is the standard configuration of the e2e contract.
struct BrokerSettings {
  std::string endpoints_pool = "2001:db8:f001:1::/64 128";
  std::vector<std::string> tsp_lines;     // more statements in "tsp TSP_Main"
  std::vector<std::string> broker_lines;  // more statements in "tunnel broker TB_Main"
  std::vector<std::string> global_lines;  // more top-level statements (admin group, ...)
  // The TSP listener's and the tunnel server's IPv4 address: all of 127/8 is on lo, so a
  // second broker can be 127.0.0.2. A redirection target must be on 3653 (a redirect names no
  // port): take that only inside a private network namespace, as tspc's tests do.
  std::string listen_address = "127.0.0.1";
  uint16_t port = 0;  // 0: a free one
};

class TempDir {
 public:
  TempDir();
  ~TempDir();  // removes the tree unless TSP_E2E_KEEP is set in the environment
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A port that is free right now on 127.0.0.1 for both UDP and TCP.
uint16_t pick_free_port();

std::string broker_config_text(const BrokerSettings& settings, uint16_t port, const std::string& dir);

// The path of a program named by an environment variable (set by meson); fails the test
// when the variable is missing: an e2e run without the daemon must not pass silently.
std::string required_program(const char* env_name);

struct CommandResult {
  int exit_status = -1;  // exit code, 128 + signal when killed
  std::string output;    // stdout and stderr together
};
// Runs `argv` with `stdin_text` on standard input and waits (at most 60 s).
CommandResult run_command(const std::vector<std::string>& argv, std::string_view stdin_text,
                          const std::string& output_file);

class BrokerProcess {
 public:
  explicit BrokerProcess(BrokerSettings settings = {});
  ~BrokerProcess();  // a daemon still running is stopped (killed if it does not stop)
  BrokerProcess(const BrokerProcess&) = delete;
  BrokerProcess& operator=(const BrokerProcess&) = delete;

  // Starts tspbrokerd and waits until its TCP port accepts (10 s at most).
  void start();
  // SIGTERM and wait (20 s at most). Returns the exit code, 128 + signal, or -1 if it had
  // to be killed.
  int stop();
  // stop() must give 0, and the log must hold no sanitizer report.
  void stop_expect_clean_exit();
  bool is_running();
  // Lifecycle tests: a signal to the running daemon; waiting for it to exit on its own (the
  // status as stop() gives it, or -1 after `timeout`, when it is still running); SIGKILL.
  void send_signal(int sig);
  int wait_exit(std::chrono::milliseconds timeout);
  void kill_hard();

  uint16_t port() const { return port_; }
  const std::string& listen_address() const { return listen_address_; }
  const std::string& dir() const { return dir_.path(); }
  const std::string& config_path() const { return config_path_; }
  std::string log_text() const;
  // Whether the log shows `text` within `within` (the daemon flushes info lines every 50 ms,
  // so a line about what just happened may not be there yet).
  bool log_shows(std::string_view text, std::chrono::milliseconds within = std::chrono::seconds(2)) const;
  // Called when an assertion fails while this broker lives: its log is printed when it goes
  // away, after the test framework has reported the failure.
  void note_failure() { failure_seen_ = true; }

  CommandResult tspctl(const std::vector<std::string>& args, std::string_view stdin_text);
  // tspctl user add NAME with the password on stdin; must exit 0.
  void add_user(const std::string& name, const std::string& password);

 private:
  TempDir dir_;
  std::string listen_address_;
  uint16_t port_;
  std::string config_path_;
  std::string log_path_;
  pid_t pid_ = -1;
  int starts_ = 0;
  bool failure_seen_ = false;

  void print_log_tail() const;
};

// The brokers alive now, for the failure listener.
const std::vector<BrokerProcess*>& live_brokers();

}  // namespace tsp::e2e
