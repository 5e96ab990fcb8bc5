#include "control/daemon/lockout_saver.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <utility>

namespace tsp::daemon {

LockoutSaver::LockoutSaver(AuthLockout& lockout, store::Store& store, std::function<int64_t()> now,
                           unsigned interval_seconds)
    : lockout_(lockout), store_(store), now_(std::move(now)), interval_(interval_seconds), thread_([this] { run(); }) {}

LockoutSaver::~LockoutSaver() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void LockoutSaver::set_interval(unsigned seconds) {
  {
    std::lock_guard lock(mu_);
    interval_ = seconds;
    rearm_ = true;
  }
  wake_.notify_all();
}

void LockoutSaver::run() {
  std::unique_lock lock(mu_);
  const auto woken = [this] { return stopping_ || rearm_; };  // stopping, or a new interval to wait for
  while (!stopping_) {
    rearm_ = false;
    if (interval_ == 0) {
      wake_.wait(lock, woken);
      continue;
    }
    if (wake_.wait_for(lock, std::chrono::seconds(interval_), woken)) continue;
    lock.unlock();
    save_if_changed();
    lock.lock();
  }
}

void LockoutSaver::save_if_changed() {
  auto snapshot = lockout_.snapshot(now_());
  if (snapshot == last_saved_) return;
  try {
    store_.save_lockouts(snapshot);
    last_saved_ = std::move(snapshot);
    ++saves_;
  } catch (const store::StoreError& e) {
    ++failures_;
    spdlog::warn("lockout: periodic save failed, the next one tries again: {}", e.what());
  }
}

}  // namespace tsp::daemon
