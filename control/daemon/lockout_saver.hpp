// Saves the password-guessing state (AuthLockout's snapshot) to the store every `lockout
// save-interval` seconds while the daemon runs, so that a crash or a kill -9 loses at most that
// much of it. Before, only a clean stop saved it, and an attacker who could bring the broker
// down hard got every lock lifted and every failure forgotten.
//
// On a thread of its own: at the bound (65,536 names and as many addresses) the snapshot holds
// the lockout's mutex for about 15-20 ms and the SQLite transaction takes 150-180 ms (2-vCPU
// VM, release build), which must not stall an I/O thread. Sessions that need the store
// meanwhile wait for it (Store is thread-safe), as they do for any other write. An unchanged
// snapshot is not written again.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "control/auth_lockout.hpp"
#include "control/store/store.hpp"

namespace tsp::daemon {

class LockoutSaver {
 public:
  // `interval_seconds` 0: nothing is saved until set_interval() says otherwise.
  LockoutSaver(AuthLockout& lockout, store::Store& store, std::function<int64_t()> now, unsigned interval_seconds);
  ~LockoutSaver();  // stops the thread; the final save is the daemon's (it knows when sessions end)
  LockoutSaver(const LockoutSaver&) = delete;
  LockoutSaver& operator=(const LockoutSaver&) = delete;

  // A reload: the next save comes `seconds` after this call.
  void set_interval(unsigned seconds);

  // Saves done and failed so far (for the tests and the log).
  uint64_t saves() const { return saves_.load(); }
  uint64_t failures() const { return failures_.load(); }

 private:
  void run();
  void save_if_changed();

  AuthLockout& lockout_;
  store::Store& store_;
  std::function<int64_t()> now_;
  std::mutex mu_;
  std::condition_variable wake_;
  unsigned interval_;     // under mu_
  bool stopping_ = false;  // under mu_
  bool rearm_ = false;     // under mu_: the interval changed, start waiting again
  store::LockoutRecords last_saved_;  // the saver thread's own
  std::atomic<uint64_t> saves_{0}, failures_{0};
  std::thread thread_;  // last: starts once everything above is ready
};

}  // namespace tsp::daemon
