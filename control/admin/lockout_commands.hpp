// The operator's view of password-guessing lockouts (auth_lockout.hpp) and the pardon: a
// customer behind a locked address calls support, and support unlocks it without a restart.
// Each returns a reply line of the admin protocol.
#pragma once

#include <cstdint>
#include <string>

#include "control/auth_lockout.hpp"

namespace tsp::admin {

// {"policy":{...},"locked":N,"counting":N,"sources":[{"address","state","failures",
//  "locked_for","window_left"}...]}: every address locked now or with failures in its window.
std::string lockouts_list(const AuthLockout& lockout, int64_t now);

// `target`: an IPv4 address (dotted quad) or "all". Not found when the address is not
// remembered; a bad address is a bad request.
std::string lockout_unlock(AuthLockout& lockout, const std::string& target, int64_t now);

}  // namespace tsp::admin
