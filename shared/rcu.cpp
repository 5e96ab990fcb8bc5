#include "shared/rcu.hpp"

// The library (non-_LGPL_SOURCE) entry points with their urcu_qsbr_ names; no short-name macros.
#include <urcu/urcu-qsbr.h>

#include <stdexcept>

namespace tsp {

namespace {
// urcu asserts (aborts) on a double registration; this lets us throw a clear error instead.
thread_local bool registered_here = false;
}  // namespace

RcuReaderThread::RcuReaderThread() {
  if (registered_here) throw std::logic_error("RcuReaderThread: this thread is already an RCU reader");
  urcu_qsbr_register_thread();
  registered_here = true;
}

RcuReaderThread::~RcuReaderThread() {
  urcu_qsbr_unregister_thread();  // goes offline first, so no writer waits on us afterwards
  registered_here = false;
}

void rcu_quiescent() noexcept {
  if (urcu_qsbr_read_ongoing()) urcu_qsbr_quiescent_state();
}

bool rcu_is_online() noexcept { return urcu_qsbr_read_ongoing() != 0; }

RcuOfflineScope::RcuOfflineScope() noexcept : was_online_(urcu_qsbr_read_ongoing() != 0) {
  if (was_online_) urcu_qsbr_thread_offline();
}

RcuOfflineScope::~RcuOfflineScope() {
  if (was_online_) urcu_qsbr_thread_online();
}

void rcu_synchronize() noexcept { urcu_qsbr_synchronize_rcu(); }

}  // namespace tsp
