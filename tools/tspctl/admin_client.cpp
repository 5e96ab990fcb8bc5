#include "tools/tspctl/admin_client.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tsp::tspctl {

namespace {

// Closes the descriptor whatever path the exchange takes.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string describe(const std::string& what, int err) { return what + ": " + std::strerror(err); }

}  // namespace

Exchange send_request(const std::string& socket_path, const std::string& request_line) {
  Exchange out;
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (socket_path.empty() || socket_path.size() >= sizeof sa.sun_path) {
    out.error = "admin socket path '" + socket_path + "' is empty or too long";
    return out;
  }
  std::memcpy(sa.sun_path, socket_path.c_str(), socket_path.size() + 1);
  Fd s{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (s.fd < 0) {
    out.error = describe("socket", errno);
    return out;
  }
  if (::connect(s.fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
    const int err = errno;
    out.error = describe("cannot connect to " + socket_path, err);
    if (err == ENOENT || err == ECONNREFUSED) out.outcome = Exchange::Outcome::NotListening;
    else if (err == EACCES || err == EPERM) out.outcome = Exchange::Outcome::PermissionDenied;
    return out;
  }
  // A daemon that refuses us answers and closes without reading: a failed send is reported
  // only if no reply can be read either.
  std::string send_error;
  for (size_t done = 0; done < request_line.size();) {
    const ssize_t n = ::send(s.fd, request_line.data() + done, request_line.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      send_error = describe("sending to " + socket_path, errno);
      break;
    }
    done += static_cast<size_t>(n);
  }
  // Big reads: a listing of 100k tunnels is tens of megabytes.
  std::string buf;
  size_t scanned = 0;
  for (;;) {
    const size_t old = buf.size();
    buf.resize(old + 256 * 1024);
    const ssize_t n = ::read(s.fd, buf.data() + old, buf.size() - old);
    if (n < 0 && errno == EINTR) {
      buf.resize(old);
      continue;
    }
    if (n <= 0) {
      buf.resize(old);
      out.error = !send_error.empty() ? send_error
                  : n == 0      ? "the daemon closed the connection without a reply"
                                : describe("reading from " + socket_path, errno);
      return out;
    }
    buf.resize(old + static_cast<size_t>(n));
    const size_t nl = buf.find('\n', scanned);
    if (nl != std::string::npos) {
      buf.resize(nl);
      out.reply = std::move(buf);
      out.outcome = Exchange::Outcome::Replied;
      return out;
    }
    scanned = buf.size();
    if (buf.size() > kMaxReplyBytes) {
      out.error = "the daemon's reply is longer than " + std::to_string(kMaxReplyBytes) + " bytes";
      return out;
    }
  }
}

}  // namespace tsp::tspctl
