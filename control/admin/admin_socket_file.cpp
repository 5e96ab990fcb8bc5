#include "control/admin/admin_socket_file.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace tsp::admin {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what, int err) {
  throw std::runtime_error("admin socket " + path + ": " + what + ": " + std::strerror(err));
}

// True if a process accepts connections on the socket file `path`.
bool someone_listens(const std::string& path) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path) return false;
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

void prepare_socket_path(const std::string& path) {
  if (path.empty()) throw std::runtime_error("admin socket: empty path");
  if (path.size() >= sizeof(sockaddr_un{}.sun_path))
    throw std::runtime_error("admin socket " + path + ": path longer than " +
                             std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) + " bytes");
  const auto dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) {
    std::error_code ec;
    if (std::filesystem::create_directories(dir, ec))
      std::filesystem::permissions(dir, std::filesystem::perms(0755), ec);
    else if (ec)
      fail(path, "cannot create directory " + dir.string(), ec.value());
  }
  struct stat st{};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return;
    fail(path, "cannot inspect", errno);
  }
  if (!S_ISSOCK(st.st_mode)) throw std::runtime_error("admin socket " + path + ": exists and is not a socket");
  if (someone_listens(path))
    throw std::runtime_error("admin socket " + path + ": another process (a running tspbrokerd?) listens on it");
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) fail(path, "cannot remove the stale socket", errno);
}

void restrict_socket_file(const std::string& path, const AccessPolicy& policy) {
  const gid_t group = policy.group().value_or(::getegid());
  if (::chown(path.c_str(), ::geteuid(), group) != 0) fail(path, "chown", errno);
  if (::chmod(path.c_str(), policy.group() ? 0660 : 0600) != 0) fail(path, "chmod", errno);
}

}  // namespace tsp::admin
