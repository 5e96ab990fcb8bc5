#include "control/dns/delegation_writer.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "control/log_text.hpp"

extern char** environ;

namespace tsp::dns {

namespace {
std::string errno_text(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

// Owns a descriptor for the few lines that use it.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};
}  // namespace

bool replace_file(const std::string& path, const std::string& text, std::string& error) {
  const std::string tmp = path + ".tmp";
  {
    Fd out{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
    if (out.fd < 0) return error = errno_text("cannot create", tmp), false;
    for (size_t done = 0; done < text.size();) {
      const ssize_t n = ::write(out.fd, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        error = errno_text("cannot write", tmp);
        ::unlink(tmp.c_str());
        return false;
      }
      done += static_cast<size_t>(n);
    }
    if (::fsync(out.fd) != 0) {
      error = errno_text("cannot sync", tmp);
      ::unlink(tmp.c_str());
      return false;
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    error = errno_text("cannot rename " + tmp + " to", path);
    ::unlink(tmp.c_str());
    return false;
  }
  // The rename itself survives a power cut only once the directory is on disk.
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  Fd d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (d.fd >= 0) ::fsync(d.fd);
  return true;
}

bool run_command(const std::vector<std::string>& argv, const std::string& file, size_t zones,
                 std::chrono::milliseconds limit, std::string& error) {
  if (argv.empty()) return true;
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return error = errno_text("pipe for", argv[0]), false;
  Fd read_end{pipe_fds[0]}, write_end{pipe_fds[1]};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, write_end.fd, 1);
  posix_spawn_file_actions_adddup2(&actions, write_end.fd, 2);
  // The daemon's sockets, store and taps are none of the command's business.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);

  std::vector<std::string> env_text;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "TSP_DELEGATION_", 15) != 0) env_text.emplace_back(*e);
  }
  env_text.push_back("TSP_DELEGATION_FILE=" + file);
  env_text.push_back("TSP_DELEGATION_ZONES=" + std::to_string(zones));
  std::vector<char*> envp, args;
  for (auto& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& a : argv_copy) args.push_back(a.data());
  args.push_back(nullptr);

  pid_t pid = -1;
  const int spawned = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(write_end.fd);
  write_end.fd = -1;
  if (spawned != 0) {
    error = "cannot run " + argv[0] + ": " + std::strerror(spawned);
    return false;
  }

  // Its output, for the log when it fails; read until it exits (a daemon it starts may keep
  // the pipe open) or the limit.
  std::string output;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  bool exited = false;
  while (!exited) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{read_end.fd, POLLIN, 0};
    if (read_end.fd >= 0 && ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 50))) > 0) {
      char buf[512];
      const ssize_t n = ::read(read_end.fd, buf, sizeof buf);
      if (n > 0 && output.size() < 2048) output.append(buf, static_cast<size_t>(n));
      if (n == 0) {  // closed: from now on only wait for the exit
        ::close(read_end.fd);
        read_end.fd = -1;
      }
    } else if (read_end.fd < 0) {
      ::usleep(10000);
    }
    const pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w < 0 && errno != EINTR) return error = "waitpid for " + argv[0] + ": " + std::strerror(errno), false;
    exited = w == pid;
  }
  // What it wrote just before it exited.
  for (pollfd p{read_end.fd, POLLIN, 0}; exited && read_end.fd >= 0 && ::poll(&p, 1, 0) > 0;) {
    char buf[512];
    const ssize_t n = ::read(read_end.fd, buf, sizeof buf);
    if (n <= 0) break;
    if (output.size() < 2048) output.append(buf, static_cast<size_t>(n));
  }
  if (!exited) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    error = argv[0] + " still ran after " + std::to_string(limit.count()) + " ms: killed";
    return false;
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
  error = argv[0] + (WIFEXITED(status) ? " exited with status " + std::to_string(WEXITSTATUS(status))
                                        : " was killed by signal " + std::to_string(WTERMSIG(status)));
  while (!output.empty() && (output.back() == '\n' || output.back() == '\r')) output.pop_back();
  if (!output.empty()) error += ": " + printable(output, 200);
  return false;
}

DelegationWriter::DelegationWriter(Snapshot snapshot, DelegationOptions options, std::chrono::milliseconds settle,
                                   std::chrono::milliseconds retry)
    : snapshot_(std::move(snapshot)), settle_(settle), retry_(retry), options_(std::move(options)),
      thread_([this] { run(); }) {}

DelegationWriter::~DelegationWriter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void DelegationWriter::changed(DelegationChange change) {
  {
    std::lock_guard lock(mu_);
    changes_.push_back(std::move(change));
    dirty_ = true;
  }
  wake_.notify_all();
}

void DelegationWriter::changed() {
  {
    std::lock_guard lock(mu_);
    resync_ = true;
    dirty_ = true;
  }
  wake_.notify_all();
}

void DelegationWriter::set_options(DelegationOptions options) {
  {
    std::lock_guard lock(mu_);
    if (options == options_) return;
    options_ = std::move(options);
    dirty_ = true;
    not_before_ = {};  // a new file or command is not held back by the last write
  }
  wake_.notify_all();
}

DelegationStats DelegationWriter::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void DelegationWriter::run() {
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait(lock, [&] { return stopping_ || dirty_; });
    if (stopping_) return;
    if (wake_.wait_until(lock, not_before_, [&] { return stopping_; })) return;
    dirty_ = false;
    const bool resync = std::exchange(resync_, false);
    const DelegationOptions options = options_;
    lock.unlock();
    const bool done = pass(options, resync);
    lock.lock();
    if (!done) dirty_ = true;
    not_before_ = std::chrono::steady_clock::now() + (done ? settle_ : retry_);
  }
}

DelegationList DelegationWriter::follow(bool resync) {
  // The whole set first, then the changes: a change told before the snapshot was taken is
  // applied to a set that already holds its effect or a later one's, and the last change of
  // a prefix wins, so nothing is lost or undone.
  if (resync) {
    current_.clear();
    for (auto& d : snapshot_()) current_[d->prefix] = std::move(d);
  }
  std::vector<DelegationChange> changes;
  {
    std::lock_guard lock(mu_);
    changes.swap(changes_);
  }
  return apply_changes(current_, changes);
}

DelegationList apply_changes(DelegationSet& set, std::vector<DelegationChange>& changes) {
  for (auto& c : changes) {
    if (c.now) set[c.prefix] = std::move(c.now);
    else set.erase(c.prefix);
  }
  DelegationList out;
  out.reserve(set.size());
  for (const auto& [prefix, d] : set) out.push_back(d);
  return out;
}

bool DelegationWriter::pass(const DelegationOptions& options, bool resync) {
  const RenderedZone zone = render_delegations(follow(resync), options.ttl);
  std::string error;
  bool wrote = false;
  if (zone.text != written_text_ || options != written_options_) {
    if (!replace_file(options.file, zone.text, error)) {
      spdlog::error("dns delegation: {}; tried again in {} s", error, retry_.count() / 1000.0);
      std::lock_guard lock(mu_);
      ++stats_.write_failures;
      stats_.last_error = error;
      return false;
    }
    written_text_ = zone.text;
    written_options_ = options;
    command_owed_ = !options.reload_command.empty();
    wrote = true;
    spdlog::info("dns delegation: {} written, {} zone(s) delegated{}", options.file, zone.zones,
                 zone.skipped_names ? fmt::format(" ({} invalid name(s) left out)", zone.skipped_names) : "");
  }
  bool command_ok = true;
  const bool ran = command_owed_;
  if (command_owed_) {
    command_ok = run_command(options.reload_command, options.file, zone.zones, kCommandLimit, error);
    command_owed_ = !command_ok;
    if (!command_ok) spdlog::error("dns delegation: reload command failed: {}; tried again in {} s", error,
                                   retry_.count() / 1000.0);
  }
  std::lock_guard lock(mu_);
  if (wrote) {
    ++stats_.writes;
    stats_.zones = zone.zones;
    stats_.skipped_names = zone.skipped_names;
  }
  if (ran) {
    ++stats_.commands;
    if (!command_ok) ++stats_.command_failures;
  }
  stats_.last_error = command_ok ? std::string() : error;
  return command_ok;
}

}  // namespace tsp::dns
