// Processes that hold one descriptor per client (tspbrokerd's TCP sessions, tsp_load's
// emulated clients) raise their soft descriptor limit to the hard one at start.
#pragma once

#include <cstdint>

namespace tsp {

// Sets RLIMIT_NOFILE's soft limit to its hard limit; returns the soft limit now in force
// (0 if it cannot be read).
uint64_t raise_fd_limit_to_hard() noexcept;

}  // namespace tsp
