#include "control/auth_lockout.hpp"

#include <algorithm>

namespace tsp {

// ---- Per address ----

int64_t AuthLockout::locked_for(Ipv4Addr source, int64_t now) {
  std::lock_guard lock(mutex_);
  return sources_.locked_for(source.value, now);
}

bool AuthLockout::failed(Ipv4Addr source, int64_t now) {
  std::lock_guard lock(mutex_);
  return sources_.failed(source.value, now, address_limits());
}

void AuthLockout::succeeded(Ipv4Addr source) {
  std::lock_guard lock(mutex_);
  sources_.forget(source.value);  // the right password: what came before was typos
}

// ---- Per user name ----

bool AuthLockout::TrustedSources::contains(Ipv4Addr a) const {
  return std::find(addresses.begin(), addresses.begin() + count, a.value) != addresses.begin() + count;
}

void AuthLockout::TrustedSources::add(Ipv4Addr a) {
  auto end = addresses.begin() + count;
  auto it = std::find(addresses.begin(), end, a.value);
  if (it == end) {
    if (count < addresses.size()) ++count;
    it = addresses.begin() + count - 1;  // the oldest makes room when full
  }
  std::rotate(addresses.begin(), it, it + 1);  // most recent first
  addresses[0] = a.value;
}

std::string AuthLockout::user_key(std::string_view user) {
  return std::string(user.substr(0, kMaxUserKeyBytes));
}

int64_t AuthLockout::user_locked_for(std::string_view user, Ipv4Addr source, int64_t now) {
  std::lock_guard lock(mutex_);
  const auto* r = users_.find(user_key(user));
  if (r == nullptr || r->locked_until <= now || r->extra.contains(source)) return 0;
  return r->locked_until - now;
}

bool AuthLockout::trusted_source(std::string_view user, Ipv4Addr source) const {
  std::lock_guard lock(mutex_);
  const auto* r = users_.find(user_key(user));
  return r != nullptr && r->extra.contains(source);
}

bool AuthLockout::user_failed(std::string_view user, int64_t now) {
  std::lock_guard lock(mutex_);
  return users_.failed(user_key(user), now, user_limits());
}

void AuthLockout::user_succeeded(std::string_view user, Ipv4Addr source, int64_t now) {
  std::lock_guard lock(mutex_);
  auto& r = users_.touch(user_key(user), now);
  r.failures = 0;  // the next failure opens a window of its own
  r.extra.add(source);
}

// ---- The operator's view ----

std::vector<LockoutView> AuthLockout::view(int64_t now) const {
  std::lock_guard lock(mutex_);
  std::vector<LockoutView> out;
  for (const auto& row : sources_.rows(now, policy_.window))
    out.push_back({Ipv4Addr{row.key}, row.failures, row.locked_for, row.window_left});
  std::sort(out.begin(), out.end(), [](const LockoutView& a, const LockoutView& b) { return a.source.value < b.source.value; });
  return out;
}

std::vector<UserLockoutView> AuthLockout::user_view(int64_t now) const {
  std::lock_guard lock(mutex_);
  std::vector<UserLockoutView> out;
  for (const auto& row : users_.rows(now, policy_.user_window))
    out.push_back({row.key, row.failures, row.locked_for, row.window_left, users_.find(row.key)->extra.count});
  std::sort(out.begin(), out.end(), [](const UserLockoutView& a, const UserLockoutView& b) { return a.user < b.user; });
  return out;
}

UserLockoutDetail AuthLockout::user_detail(std::string_view user, int64_t now) const {
  std::lock_guard lock(mutex_);
  UserLockoutDetail out;
  const auto* r = users_.find(user_key(user));
  if (r == nullptr) return out;
  if (r->locked_until > now) {
    out.locked_for = r->locked_until - now;
  } else if (decltype(users_)::live(*r, now, policy_.user_window)) {
    out.failures = r->failures;
    out.window_left = decltype(users_)::window_left(*r, now, policy_.user_window);
  }
  for (size_t i = 0; i < r->extra.count; ++i) out.trusted_sources.push_back(Ipv4Addr{r->extra.addresses[i]});
  return out;
}

bool AuthLockout::unlock(Ipv4Addr source) {
  std::lock_guard lock(mutex_);
  return sources_.forget(source.value);
}

AuthLockout::Lifted AuthLockout::unlock_user(std::string_view user, int64_t now) {
  std::lock_guard lock(mutex_);
  auto* r = users_.find(user_key(user));
  if (r == nullptr) return Lifted::Nothing;
  const bool was_locked = r->locked_until > now;
  if (!users_.lift(*r, now, policy_.user_window)) return Lifted::Nothing;
  return was_locked ? Lifted::Lock : Lifted::Failures;
}

bool AuthLockout::forget_user(std::string_view user) {
  std::lock_guard lock(mutex_);
  return users_.forget(user_key(user));
}

LockoutCounts AuthLockout::unlock_all(int64_t now) {
  std::lock_guard lock(mutex_);
  return {sources_.forget_all(now), users_.lift_all(now)};
}

// ---- Across a restart ----

store::LockoutRecords AuthLockout::snapshot(int64_t now) const {
  std::lock_guard lock(mutex_);
  store::LockoutRecords out;
  sources_.each_oldest_first([&](uint32_t key, const auto& r) {
    if (decltype(sources_)::live(r, now, policy_.window))
      out.sources.push_back({Ipv4Addr{key}, r.window_start, r.failures, r.locked_until});
  });
  users_.each_oldest_first([&](const std::string& key, const auto& r) {
    if (!decltype(users_)::live(r, now, policy_.user_window) && r.extra.count == 0) return;
    store::UserLockoutRecord u{key, r.window_start, r.failures, r.locked_until, {}};
    for (size_t i = 0; i < r.extra.count; ++i) u.trusted_sources.push_back(Ipv4Addr{r.extra.addresses[i]});
    out.users.push_back(std::move(u));
  });
  return out;
}

LockoutCounts AuthLockout::restore(const store::LockoutRecords& records, int64_t now) {
  std::lock_guard lock(mutex_);
  LockoutCounts taken;
  for (const auto& s : records.sources) {
    if (!decltype(sources_)::live(s.locked_until, s.failures, s.window_start, now, policy_.window)) continue;
    auto& r = sources_.touch(s.address.value, now);
    r.window_start = s.window_start;
    r.failures = s.failures;
    r.locked_until = s.locked_until;
    ++taken.addresses;
  }
  for (const auto& u : records.users) {
    if (!decltype(users_)::live(u.locked_until, u.failures, u.window_start, now, policy_.user_window) &&
        u.trusted_sources.empty()) {
      continue;
    }
    auto& r = users_.touch(user_key(u.name), now);
    r.window_start = u.window_start;
    r.failures = u.failures;
    r.locked_until = u.locked_until;
    r.extra = {};
    for (auto it = u.trusted_sources.rbegin(); it != u.trusted_sources.rend(); ++it) r.extra.add(*it);  // oldest first
    ++taken.users;
  }
  return taken;
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
  return sources_.size();
}

size_t AuthLockout::locked_now(int64_t now) const {
  std::lock_guard lock(mutex_);
  return sources_.locked_now(now);
}

size_t AuthLockout::tracked_users() const {
  std::lock_guard lock(mutex_);
  return users_.size();
}

size_t AuthLockout::locked_users_now(int64_t now) const {
  std::lock_guard lock(mutex_);
  return users_.locked_now(now);
}

}  // namespace tsp
