// The admin socket's file: where it goes, who may open it, and what is left of a daemon that
// was killed. Its directory is created if missing; a socket file nobody listens on any more
// is replaced; one a live daemon still listens on is not (two daemons, one socket: refused).
#pragma once

#include <string>

#include "control/admin/peer_credentials.hpp"

namespace tsp::admin {

// Before bind: makes the directory and removes a stale socket. Throws std::runtime_error
// naming the path when it cannot, or when another process listens there.
void prepare_socket_path(const std::string& path);

// After bind, before listen (nobody can connect yet): 0600 owned by us, or 0660 with the
// policy's group. Throws std::runtime_error naming the path.
void restrict_socket_file(const std::string& path, const AccessPolicy& policy);

}  // namespace tsp::admin
