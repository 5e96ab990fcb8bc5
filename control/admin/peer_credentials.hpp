// Who is on the other end of the admin socket, and whether they may use it: root always;
// with `admin group G`, members of G too (primary group or supplementary, as the system's
// group database says for the peer's uid). The kernel vouches for the peer (SO_PEERCRED).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>

namespace tsp::admin {

struct PeerIdentity {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

// The credentials of a connected AF_UNIX stream socket's peer; nullopt if the kernel gives none.
std::optional<PeerIdentity> peer_identity(int fd);

// True if the user `uid` belongs to group `group` per the passwd and group databases.
bool user_in_group(uid_t uid, gid_t group);

class AccessPolicy {
 public:
  // Root only.
  AccessPolicy() = default;
  // Root and members of the group; `group_name` is kept for the refusal text.
  AccessPolicy(std::string group_name, gid_t group) : group_name_(std::move(group_name)), group_(group) {}

  // Looks the group up (getgrnam); throws std::runtime_error if no such group exists.
  static AccessPolicy for_group(const std::optional<std::string>& group_name);

  // nullopt if allowed, else the refusal for the peer ("permission denied: ...").
  std::optional<std::string> check(const PeerIdentity& peer) const;

  const std::optional<gid_t>& group() const { return group_; }

 private:
  std::string group_name_;
  std::optional<gid_t> group_;
};

}  // namespace tsp::admin
