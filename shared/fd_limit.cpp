#include "shared/fd_limit.hpp"

#include <sys/resource.h>

namespace tsp {

uint64_t raise_fd_limit_to_hard() noexcept {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
  if (rl.rlim_cur < rl.rlim_max) {
    const rlim_t previous = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) rl.rlim_cur = previous;
  }
  return rl.rlim_cur;
}

}  // namespace tsp
