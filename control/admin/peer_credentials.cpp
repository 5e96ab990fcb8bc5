#include "control/admin/peer_credentials.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <vector>

namespace tsp::admin {

std::optional<PeerIdentity> peer_identity(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof cred) return std::nullopt;
  return PeerIdentity{cred.pid, cred.uid, cred.gid};
}

bool user_in_group(uid_t uid, gid_t group) {
  // getpwuid_r / getgrouplist: reentrant, no static buffers shared with other threads.
  long size_hint = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(size_hint > 0 ? static_cast<size_t>(size_hint) : 16384);
  passwd pw{};
  passwd* found = nullptr;
  while (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == ERANGE && buf.size() < (1u << 20))
    buf.resize(buf.size() * 2);
  if (!found) return false;  // a uid with no name is in no group
  if (pw.pw_gid == group) return true;
  std::vector<gid_t> groups(64);
  for (;;) {
    int count = static_cast<int>(groups.size());
    if (::getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &count) >= 0) {
      groups.resize(static_cast<size_t>(count));
      break;
    }
    if (count <= static_cast<int>(groups.size()) || groups.size() >= 65536) return false;
    groups.resize(static_cast<size_t>(count));
  }
  for (gid_t g : groups)
    if (g == group) return true;
  return false;
}

AccessPolicy AccessPolicy::for_group(const std::optional<std::string>& group_name) {
  if (!group_name) return AccessPolicy();
  std::vector<char> buf(16384);
  ::group gr{};
  ::group* found = nullptr;
  int rc = 0;
  while ((rc = ::getgrnam_r(group_name->c_str(), &gr, buf.data(), buf.size(), &found)) == ERANGE &&
         buf.size() < (1u << 20))
    buf.resize(buf.size() * 2);
  if (!found) throw std::runtime_error("admin group '" + *group_name + "' does not exist");
  return AccessPolicy(*group_name, gr.gr_gid);
}

std::optional<std::string> AccessPolicy::check(const PeerIdentity& peer) const {
  if (peer.uid == 0) return std::nullopt;
  if (group_ && user_in_group(peer.uid, *group_)) return std::nullopt;
  if (group_) return "permission denied: tspctl needs root or group " + group_name_;
  return std::string("permission denied: tspctl needs root");
}

}  // namespace tsp::admin
