#include "control/auth_lockout.hpp"

#include <algorithm>

namespace tsp {

int64_t AuthLockout::locked_for(Ipv4Addr source, int64_t now) {
  std::lock_guard lock(mutex_);
  const auto it = records_.find(source.value);
  if (it == records_.end() || it->second.locked_until <= now) return 0;
  return it->second.locked_until - now;
}

bool AuthLockout::failed(Ipv4Addr source, int64_t now) {
  std::lock_guard lock(mutex_);
  if (policy_.failures == 0) return false;
  auto it = records_.find(source.value);
  if (it == records_.end()) {
    if (records_.size() >= kMaxTrackedSources) forget(records_.find(oldest_.front()));
    oldest_.push_back(source.value);
    it = records_.emplace(source.value, Record{now, 0, 0, std::prev(oldest_.end())}).first;
  } else {
    touch(it->second);
  }
  Record& r = it->second;
  if (r.locked_until > now) return false;  // callers refuse locked addresses before this
  if (now - r.window_start >= static_cast<int64_t>(policy_.window)) {
    r.window_start = now;
    r.failures = 0;
  }
  if (++r.failures < policy_.failures) return false;
  r.locked_until = now + policy_.duration;
  r.failures = 0;
  r.window_start = r.locked_until;  // the count starts afresh once the lock is over
  return true;
}

void AuthLockout::succeeded(Ipv4Addr source) {
  std::lock_guard lock(mutex_);
  const auto it = records_.find(source.value);
  if (it != records_.end()) forget(it);  // the right password: what came before was typos
}

void AuthLockout::set_policy(LockoutPolicy policy) {
  std::lock_guard lock(mutex_);
  policy_ = policy;
}

LockoutPolicy AuthLockout::policy() const {
  std::lock_guard lock(mutex_);
  return policy_;
}

size_t AuthLockout::tracked() const {
  std::lock_guard lock(mutex_);
  return records_.size();
}

size_t AuthLockout::locked_now(int64_t now) const {
  std::lock_guard lock(mutex_);
  size_t n = 0;
  for (const auto& [key, r] : records_) n += r.locked_until > now;
  return n;
}

std::vector<LockoutView> AuthLockout::view(int64_t now) const {
  std::lock_guard lock(mutex_);
  std::vector<LockoutView> out;
  for (const auto& [key, r] : records_) {
    if (r.locked_until > now) {
      out.push_back({Ipv4Addr{key}, 0, r.locked_until - now, 0});
      continue;
    }
    const int64_t window_end = r.window_start + static_cast<int64_t>(policy_.window);
    if (r.failures > 0 && now >= r.window_start && window_end > now) {
      out.push_back({Ipv4Addr{key}, r.failures, 0, window_end - now});
    }
  }
  std::sort(out.begin(), out.end(), [](const LockoutView& a, const LockoutView& b) { return a.source.value < b.source.value; });
  return out;
}

bool AuthLockout::unlock(Ipv4Addr source) {
  std::lock_guard lock(mutex_);
  const auto it = records_.find(source.value);
  if (it == records_.end()) return false;
  forget(it);
  return true;
}

size_t AuthLockout::unlock_all(int64_t now) {
  std::lock_guard lock(mutex_);
  size_t locked = 0;
  for (const auto& [key, r] : records_) locked += r.locked_until > now;
  records_.clear();
  oldest_.clear();
  return locked;
}

void AuthLockout::forget(std::unordered_map<uint32_t, Record>::iterator it) {
  oldest_.erase(it->second.age);
  records_.erase(it);
}

void AuthLockout::touch(Record& r) { oldest_.splice(oldest_.end(), oldest_, r.age); }

}  // namespace tsp
