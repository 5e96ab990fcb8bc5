#include "tools/tspc/settings/template_runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>
#include <stdexcept>
#include <string_view>
#include <vector>

extern char** environ;

namespace tsp::tspc {
namespace {

constexpr size_t kMaxOutput = 1 << 20;
constexpr int kPollMillis = 50;

std::runtime_error system_error(const std::string& what, int err) {
  return std::runtime_error(what + ": " + std::strerror(err));
}

// The parent's environment with our TSP_* variables replacing any of the same name.
std::vector<std::string> child_environment(const TemplateEnvironment& vars) {
  std::set<std::string, std::less<>> ours;
  for (const auto& [name, value] : vars) ours.insert(name);
  std::vector<std::string> out;
  for (char** entry = environ; entry && *entry; ++entry) {
    const std::string_view text(*entry);
    if (!ours.contains(text.substr(0, text.find('=')))) out.emplace_back(text);
  }
  for (const auto& [name, value] : vars) out.push_back(name + "=" + value);
  return out;
}

// Owns the spawn attributes so every exit path releases them.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnSetup(int out_fd) {
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out_fd, STDERR_FILENO);
    posix_spawnattr_init(&attr);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (int sig : {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGPIPE, SIGCHLD, SIGALRM, SIGUSR1, SIGUSR2})
      sigaddset(&defaults, sig);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setpgroup(&attr, 0);  // own group: the time limit kills its children too
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

// Reads what is there now; false at end of file.
bool drain(int fd, std::string& out) {
  char buffer[4096];
  while (true) {
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n > 0) {
      out.append(buffer, std::min(static_cast<size_t>(n), kMaxOutput - std::min(out.size(), kMaxOutput)));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0;  // EAGAIN: more may come; 0 or a hard error: done
  }
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Waits for the child, collecting its output, until it exits or `limit` passes.
TemplateResult collect(pid_t pid, int read_fd, std::chrono::milliseconds limit) {
  TemplateResult result;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  bool pipe_open = true;
  while (true) {
    int status = 0;
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid || (done < 0 && errno == ECHILD)) {
      if (done == pid) result.exit_status = decode_status(status);
      // Background children may keep the pipe open: take what is there and stop.
      if (pipe_open) drain(read_fd, result.output);
      return result;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      if (pipe_open) drain(read_fd, result.output);
      result.exit_status = decode_status(status);
      result.timed_out = true;
      return result;
    }
    if (pipe_open) {
      pollfd p{read_fd, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(std::min<long>(left.count(), kPollMillis))) > 0)
        pipe_open = drain(read_fd, result.output);
    } else {
      usleep(static_cast<useconds_t>(std::min<long>(left.count(), kPollMillis)) * 1000);
    }
  }
}

void log_output(ClientLog& log, const std::string& name, const std::string& output) {
  std::string_view rest = output;
  while (!rest.empty()) {
    const auto eol = rest.find('\n');
    log.debug(name + ": " + std::string(rest.substr(0, eol)));
    rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 1);
  }
}

}  // namespace

std::string template_script_path(const TspcConfig& cfg) {
  return cfg.tsp_dir + "/template/" + cfg.template_name + ".sh";
}

TemplateResult run_template(const TspcConfig& cfg, const TunnelInfo& info, TemplateOperation op,
                            ClientLog& log, std::chrono::milliseconds limit) {
  const std::string path = template_script_path(cfg);
  struct stat st{};
  if (stat(path.c_str(), &st) != 0) throw system_error("template script " + path, errno);
  if (!S_ISREG(st.st_mode)) throw std::runtime_error("template script " + path + ": not a regular file");

  const auto vars = template_environment(cfg, info, op);
  const char* what = op == TemplateOperation::Creation ? "creation" : "teardown";
  log.info(std::string("running template ") + path + " (" + what + ")");
  for (const auto& [name, value] : vars) log.debug("template variable " + name + "=" + value);

  const auto env_strings = child_environment(vars);
  std::vector<char*> envp;
  for (const auto& entry : env_strings) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);
  std::string shell = "/bin/sh", script = path;
  char* argv[] = {shell.data(), script.data(), nullptr};

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw system_error("template pipe", errno);
  Fd read_end{fds[0]}, write_end{fds[1]};
  pid_t pid = -1;
  {
    SpawnSetup setup(write_end.fd);
    if (const int err = posix_spawn(&pid, "/bin/sh", &setup.actions, &setup.attr, argv, envp.data()))
      throw system_error("cannot start /bin/sh for " + path, err);
  }
  close(write_end.fd);
  write_end.fd = -1;
  fcntl(read_end.fd, F_SETFL, fcntl(read_end.fd, F_GETFL) | O_NONBLOCK);

  TemplateResult result = collect(pid, read_end.fd, limit);
  log_output(log, cfg.template_name + ".sh", result.output);
  if (result.timed_out) {
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.1f", static_cast<double>(limit.count()) / 1000.0);
    log.error("template " + path + " (" + what + ") killed after " + seconds + " s (time limit)");
  } else if (result.exit_status != 0) {
    log.error("template " + path + " (" + what + ") failed with exit status " + std::to_string(result.exit_status));
  } else {
    log.info(std::string("template ") + what + " done");
  }
  return result;
}

}  // namespace tsp::tspc
