// Thin RAII wrappers over liburcu's QSBR flavour, so that no other file includes urcu headers
// (their short-name macros would leak into every includer).
//
// QSBR in one paragraph: a reader thread registers once, is then "online", and must report a
// quiescent state (a moment where it holds no pointer into RCU-protected data) regularly, for
// DPDK workers once per poll loop. A grace period ends when every online reader has reported
// one; a writer frees what it unlinked only after a grace period. An online reader that
// blocks (sleeps, waits on a lock or a condition) without going offline stalls every grace
// period, so wrap such waits in RcuOfflineScope.
#pragma once

namespace tsp {

// Registers the calling thread as a QSBR reader for this object's lifetime; the thread is
// online when the constructor returns. Create it on the reader thread itself, at most one per
// thread (a second one throws std::logic_error).
class RcuReaderThread {
 public:
  RcuReaderThread();
  ~RcuReaderThread();
  RcuReaderThread(const RcuReaderThread&) = delete;
  RcuReaderThread& operator=(const RcuReaderThread&) = delete;
};

// Reports a quiescent state: every pointer obtained from an RCU table before this call may be
// freed after it. No-op on threads that are not registered or are offline (calling urcu's
// version there would silently bring them online).
void rcu_quiescent() noexcept;

// True if the calling thread is a registered reader that is currently online.
bool rcu_is_online() noexcept;

// Takes the calling thread offline for a blocking wait and back online afterwards. Harmless
// (does nothing) on threads that are not online, so writer code may use it unconditionally.
class RcuOfflineScope {
 public:
  RcuOfflineScope() noexcept;
  ~RcuOfflineScope();
  RcuOfflineScope(const RcuOfflineScope&) = delete;
  RcuOfflineScope& operator=(const RcuOfflineScope&) = delete;

 private:
  bool was_online_;
};

// Waits for one grace period. Safe from any thread: liburcu takes an online caller offline for
// the wait, which is itself a quiescent state for that caller.
void rcu_synchronize() noexcept;

}  // namespace tsp
