// The admin socket for real: a Unix socket in a temporary directory, the server on its own
// I/O thread, clients as plain POSIX sockets (forked ones under other uids). Run as root.
#include <catch2/catch.hpp>

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <chrono>
#include <csignal>
#include <boost/asio/post.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <thread>

#include "control/admin/admin_server.hpp"
#include "control/admin/admin_socket_file.hpp"
#include "tests/unit/control_test_support.hpp"
#include "tests/unit/scratch_dir.hpp"

using namespace tsp;
using namespace tsp::admin;
namespace asio = boost::asio;

namespace {

constexpr uid_t kNobody = 65534;    // not in group daemon
constexpr uid_t kDaemonUser = 1;    // user daemon: primary group daemon (gid 1)
constexpr gid_t kDaemonGroup = 1;

struct TempDir : tsp::test::ScratchDir {
  TempDir() : ScratchDir("tspo1-admin") {
    ::chmod(path.c_str(), 0755);  // other uids must reach the socket inside
  }
};

int connect_to(const std::string& path) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0) return fd;
  if (fd >= 0) ::close(fd);
  return -1;
}

// Reads up to a newline (included) or EOF.
std::string read_line(int fd) {
  std::string line;
  char c = 0;
  while (::read(fd, &c, 1) == 1) {
    line += c;
    if (c == '\n') break;
  }
  return line;
}

bool write_all(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

AdminReply reply_of(const std::string& line) {
  std::string why;
  auto r = parse_reply(line, why);
  INFO("reply line: " << line << " (" << why << ")");
  REQUIRE(r);
  return *r;
}

// Daemon-side pieces on an I/O thread of their own.
struct Server {
  explicit Server(std::string socket_path, AccessPolicy policy = {},
                  std::chrono::milliseconds idle_timeout = AdminServer::kDefaultIdleTimeout) {
    cfg = std::make_shared<const config::Config>(fx.config());
    AdminContext ctx;
    ctx.config = [this] { return cfg; };
    ctx.store = &fx.store();
    ctx.tunnels = &fx.service();
    ctx.now = [this] { return fx.now(); };
    commands = std::make_unique<AdminCommands>(std::move(ctx));
    server = std::make_unique<AdminServer>(io, *commands, std::move(socket_path), std::move(policy), idle_timeout);
  }
  void start() {
    server->start();
    thread = std::thread([this] { io.run(); });
  }
  ~Server() {
    std::promise<void> stopped;
    asio::post(io, [&] {
      server->stop();
      stopped.set_value();
    });
    if (thread.joinable()) {
      stopped.get_future().wait();
      work.reset();
      io.stop();
      thread.join();
    }
  }

  test::BrokerFixture fx;
  std::shared_ptr<const config::Config> cfg;
  std::unique_ptr<AdminCommands> commands;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  std::unique_ptr<AdminServer> server;
  std::thread thread;
};

// In a child running as `uid` (primary group from `gid`, no supplementary groups): connect,
// send one request, return the reply line (or "connect failed").
std::string request_as(uid_t uid, gid_t gid, const std::string& path, const std::string& request) {
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(pipe_fds[0]);
    ::signal(SIGPIPE, SIG_IGN);  // a refused peer may be closed before our request is written
    if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) ::_exit(3);
    const int fd = connect_to(path);
    std::string out = "connect failed";
    if (fd >= 0) {
      write_all(fd, request);  // may fail: the refusal is still there to read
      out = read_line(fd);
    }
    write_all(pipe_fds[1], out);
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string out;
  char buf[512];
  for (ssize_t n; (n = ::read(pipe_fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  return out;
}

const std::string kStats = "{\"command\":\"stats\"}\n";

}  // namespace

TEST_CASE("root gets answers; requests on one connection are answered in order", "[admin][server]") {
  TempDir dir;
  const std::string path = dir.path + "/run/sub/admin.sock";  // the directories do not exist yet
  Server s(path);
  s.start();
  struct stat st{};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK(S_ISSOCK(st.st_mode));
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(st.st_uid == 0);

  const int fd = connect_to(path);
  REQUIRE(fd >= 0);
  REQUIRE(write_all(fd, kStats + "{\"command\":\"tunnels\"}\n"));
  CHECK(reply_of(read_line(fd)).result["control"]["live_tunnels"] == 0);
  CHECK(reply_of(read_line(fd)).result["tunnels"].empty());
  // A malformed request is answered and the connection goes on.
  REQUIRE(write_all(fd, "{\"command\":\"nope\"}\r\n"));
  const auto bad = reply_of(read_line(fd));
  CHECK(bad.status == ErrorStatus::BadRequest);
  CHECK(bad.error == "unknown command 'nope'");
  REQUIRE(write_all(fd, kStats));
  CHECK(reply_of(read_line(fd)).ok);
  // An endless line is refused and the connection closed.
  REQUIRE(write_all(fd, std::string(kMaxRequestBytes + 10, 'x')));
  const auto long_line = reply_of(read_line(fd));
  CHECK(long_line.status == ErrorStatus::BadRequest);
  CHECK(long_line.error == "request longer than 65536 bytes");
  CHECK(read_line(fd).empty());  // EOF
  ::close(fd);
}

TEST_CASE("a connection that stays silent is closed after the idle timeout; a busy one is not", "[admin][server]") {
  TempDir dir;
  const std::string path = dir.path + "/admin.sock";
  Server s(path, {}, std::chrono::milliseconds(300));
  s.start();
  const int silent = connect_to(path);
  const int busy = connect_to(path);
  REQUIRE(silent >= 0);
  REQUIRE(busy >= 0);
  // The busy one asks every 100 ms for a second: never idle for 300 ms.
  for (int i = 0; i < 10; ++i) {
    REQUIRE(write_all(busy, kStats));
    CHECK(reply_of(read_line(busy)).ok);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // By now the silent one was closed: EOF (0), not a time-out (-1), and nothing written to it.
  const timeval patience{5, 0};
  REQUIRE(::setsockopt(silent, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience) == 0);
  char c = 0;
  CHECK(::read(silent, &c, 1) == 0);
  REQUIRE(write_all(busy, kStats));
  CHECK(reply_of(read_line(busy)).ok);
  ::close(silent);
  ::close(busy);
}

TEST_CASE("a uid that is not root and not in the group is refused, with the reason", "[admin][server]") {
  TempDir dir;
  const std::string path = dir.path + "/admin.sock";
  Server s(path);
  s.start();
  // The file's mode keeps others out first ...
  CHECK(request_as(kNobody, kNobody, path, kStats) == "connect failed");
  // ... and if it did not, the peer check would.
  REQUIRE(::chmod(path.c_str(), 0666) == 0);
  const auto refused = reply_of(request_as(kNobody, kNobody, path, kStats));
  CHECK(refused.status == ErrorStatus::PermissionDenied);
  CHECK(refused.error == "permission denied: tspctl needs root");
}

TEST_CASE("with an admin group: socket 0660 root:group, members allowed, others refused", "[admin][server]") {
  TempDir dir;
  const std::string path = dir.path + "/admin.sock";
  Server s(path, AccessPolicy::for_group(std::string("daemon")));
  s.start();
  struct stat st{};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0660);
  CHECK(st.st_gid == kDaemonGroup);

  CHECK(reply_of(request_as(kDaemonUser, kDaemonGroup, path, kStats)).ok);
  CHECK(request_as(kNobody, kNobody, path, kStats) == "connect failed");
  // The kernel checks the process's gids against the file ...
  CHECK(request_as(kDaemonUser, kNobody, path, kStats) == "connect failed");
  REQUIRE(::chmod(path.c_str(), 0666) == 0);
  // ... the daemon the group database: a member running with another gid is one.
  CHECK(reply_of(request_as(kDaemonUser, kNobody, path, kStats)).ok);
  const auto refused = reply_of(request_as(kNobody, kNobody, path, kStats));
  CHECK(refused.status == ErrorStatus::PermissionDenied);
  CHECK(refused.error == "permission denied: tspctl needs root or group daemon");
}

TEST_CASE("group membership comes from the system's databases", "[admin][server]") {
  CHECK(user_in_group(kDaemonUser, kDaemonGroup));
  CHECK_FALSE(user_in_group(kNobody, kDaemonGroup));
  CHECK_FALSE(user_in_group(4000000000u, kDaemonGroup));  // no such user
  CHECK_THROWS_WITH(AccessPolicy::for_group(std::string("no-such-group-tspo1")),
                    "admin group 'no-such-group-tspo1' does not exist");
  AccessPolicy root_only;
  CHECK_FALSE(root_only.check({1, 0, 0}));
  CHECK(root_only.check({1, kDaemonUser, kDaemonGroup}) == "permission denied: tspctl needs root");
}

TEST_CASE("the socket file: stale replaced, live or foreign refused, removed on stop", "[admin][server]") {
  TempDir dir;
  const std::string path = dir.path + "/admin.sock";
  {
    // What a killed daemon leaves: a socket file nobody listens on.
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0);
    ::close(fd);
  }
  {
    Server s(path);
    s.start();
    CHECK(reply_of(request_as(0, 0, path, kStats)).ok);
    // A second daemon on the same socket is refused; the first keeps it.
    CHECK_THROWS_WITH(prepare_socket_path(path),
                      "admin socket " + path + ": another process (a running tspbrokerd?) listens on it");
    CHECK(reply_of(request_as(0, 0, path, kStats)).ok);
  }
  CHECK_FALSE(std::filesystem::exists(path));
  std::ofstream(path) << "not a socket";
  CHECK_THROWS_WITH(prepare_socket_path(path), "admin socket " + path + ": exists and is not a socket");
  CHECK_THROWS_WITH(prepare_socket_path(dir.path + "/" + std::string(120, 'x')),
                    Catch::Contains("path longer than 107 bytes"));
}
