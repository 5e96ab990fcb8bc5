// The operator's view of password-guessing lockouts (auth_lockout.hpp) and the pardon: a
// customer behind a locked address, or whose user name is locked, calls support, and support
// unlocks it without a restart.
// Each returns a reply line of the admin protocol.
#pragma once

#include <cstdint>
#include <string>

#include "control/auth_lockout.hpp"

namespace tsp::admin {

// {"policy":{...},"locked":N,"counting":N,"sources":[{"address","state","failures",
//  "locked_for","window_left"}...],"locked_users":N,"counting_users":N,"users":[{"user",
//  "state","failures","locked_for","window_left","trusted_sources"}...]}: every address and
// user name locked now or with failures in its window.
std::string lockouts_list(const AuthLockout& lockout, int64_t now);

// `target`: an IPv4 address (dotted quad) or "all" (every address and user name). Not found
// when the address is not remembered; a bad address is a bad request.
std::string lockout_unlock(AuthLockout& lockout, const std::string& target, int64_t now);

// Lifts a user name's lock and forgets its failures. Not found when it was neither locked
// nor counting.
std::string lockout_unlock_user(AuthLockout& lockout, const std::string& user, int64_t now);

}  // namespace tsp::admin
