// When no daemon listens, the user commands work on the store the configuration names, so
// users can be created before the first start; history reads the history file beside the
// store (an abuse desk may ask while the daemon is down). Other commands need the daemon.
#pragma once

#include <optional>
#include <string>

#include "config/broker_config.hpp"
#include "control/admin/admin_protocol.hpp"

namespace tsp::tspctl {

bool works_without_daemon(admin::Command command);

// The reply line (admin protocol) for a user or history command run on cfg's store (and
// history file). Throws store::StoreError when either cannot be opened or written.
std::string run_on_store(const config::Config& cfg, const admin::AdminRequest& request);

}  // namespace tsp::tspctl
