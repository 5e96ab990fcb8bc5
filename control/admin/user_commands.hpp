// User administration against the store: used by the daemon (with its tunnel service, so a
// deleted user's tunnel goes too) and by tspctl itself when no daemon is listening (before
// the first start). Each returns a reply line of the admin protocol, so both render alike.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "control/auth_lockout.hpp"
#include "control/store/store.hpp"
#include "control/store/tunnel_history.hpp"
#include "control/tunnel_service.hpp"

namespace tsp::admin {

struct UserContext {
  store::Store& store;
  TunnelService* tunnels = nullptr;  // null: no daemon (tspctl's own fallback)
  std::string realm;                 // the DIGEST-MD5 realm the credentials are made for
  int64_t now = 0;
  AuthLockout* lockout = nullptr;    // the daemon's; null: the lockouts it saved in the store
  // No daemon: the history file, where `user del` ends the tunnels it deletes (the daemon's own
  // TunnelService does that when it runs). Null: they end as lost at the next start.
  store::TunnelHistory* history = nullptr;
};

// 1-253 printable ASCII or UTF-8 bytes, no space, quote or backslash (quotable in DIGEST-MD5).
bool valid_user_name(std::string_view name);

std::string user_add(UserContext& ctx, const std::string& name, const std::string& password);
// A new password, or a deleted user, also forgets the name's lockout record: the addresses
// trusted under the old password (one may be a guesser's that found it), its failures, its lock.
std::string user_passwd(UserContext& ctx, const std::string& name, const std::string& password);
std::string user_del(UserContext& ctx, const std::string& name);
std::string user_show(UserContext& ctx, const std::string& name);
std::string users_list(UserContext& ctx);

}  // namespace tsp::admin
