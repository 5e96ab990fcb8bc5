// The bookkeeping behind AuthLockout, for one kind of key (an IPv4 address, a user name):
// failures counted within a window, a lock once they reach the limit, and at most
// `max_tracked` keys remembered, the least recently touched forgotten first, unless it is
// locked (a flood of new keys must not lift locks by pushing them out). Each record may
// carry `Extra` (the user side keeps the addresses that proved the password there). Not
// thread-safe: AuthLockout holds its mutex around every call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <unordered_map>
#include <variant>
#include <vector>

namespace tsp {

struct LockoutLimits {
  unsigned failures = 0;  // 0: never lock
  unsigned window = 60;   // seconds in which the failures must fall
  unsigned duration = 300;
};

template <typename Key, typename Extra = std::monostate>
class LockoutTable {
 public:
  struct Record {
    int64_t window_start = 0;
    unsigned failures = 0;
    int64_t locked_until = 0;
    Extra extra{};
    typename std::list<Key>::iterator age;  // place in oldest_, for eviction
  };
  // A key as the operator sees it: locked now, or counting failures in its window.
  struct Row {
    Key key;
    unsigned failures = 0;    // 0 while locked
    int64_t locked_for = 0;   // seconds left
    int64_t window_left = 0;  // seconds until its failures are forgotten; 0 when locked
  };

  explicit LockoutTable(size_t max_tracked) : max_tracked_(max_tracked) {}

  int64_t locked_for(const Key& key, int64_t now) const {
    const auto it = records_.find(key);
    if (it == records_.end() || it->second.locked_until <= now) return 0;
    return it->second.locked_until - now;
  }

  const Record* find(const Key& key) const {
    const auto it = records_.find(key);
    return it == records_.end() ? nullptr : &it->second;
  }
  Record* find(const Key& key) {
    const auto it = records_.find(key);
    return it == records_.end() ? nullptr : &it->second;
  }

  // How many of the stalest records eviction looks at for one that is not locked.
  static constexpr size_t kEvictionScan = 16;

  // The key's record, made if need be (evicting at the bound: the stalest of the first
  // kEvictionScan records that is not locked at `now`, else the stalest), now the most
  // recently touched.
  Record& touch(const Key& key, int64_t now) {
    auto it = records_.find(key);
    if (it == records_.end()) {
      if (records_.size() >= max_tracked_ && !oldest_.empty()) erase(eviction_victim(now));
      oldest_.push_back(key);
      it = records_.emplace(key, Record{now, 0, 0, Extra{}, std::prev(oldest_.end())}).first;
    } else {
      oldest_.splice(oldest_.end(), oldest_, it->second.age);
    }
    return it->second;
  }

  // A failure under `limits`. True when this one locked the key.
  bool failed(const Key& key, int64_t now, const LockoutLimits& limits) {
    if (limits.failures == 0) return false;
    Record& r = touch(key, now);
    if (r.locked_until > now) return false;  // callers refuse locked keys before this
    // The first failure since the record was clear opens a window of its own.
    if (r.failures == 0 || now - r.window_start >= static_cast<int64_t>(limits.window)) {
      r.window_start = now;
      r.failures = 0;
    }
    if (++r.failures < limits.failures) return false;
    r.locked_until = now + limits.duration;
    r.failures = 0;
    r.window_start = r.locked_until;  // the count starts afresh once the lock is over
    return true;
  }

  // Forgets the key. True when it was remembered.
  bool forget(const Key& key) {
    const auto it = records_.find(key);
    if (it == records_.end()) return false;
    erase(it);
    return true;
  }

  // Forgets every key; returns how many were locked at `now`.
  size_t forget_all(int64_t now) {
    const size_t locked = locked_now(now);
    records_.clear();
    oldest_.clear();
    return locked;
  }

  // Lifts the key's lock and forgets its failures, keeping the record (and its Extra). True
  // when it was locked or had failures in its window (of `window` seconds).
  bool lift(Record& r, int64_t now, unsigned window) {
    const bool was = live(r, now, window);
    clear(r, now);
    return was;
  }

  // lift() for every key; returns how many were locked at `now`.
  size_t lift_all(int64_t now) {
    size_t locked = 0;
    for (auto& [key, r] : records_) {
      locked += r.locked_until > now;
      clear(r, now);
    }
    return locked;
  }

  // Keys locked at `now` or with failures in their window (of `window` seconds), unordered.
  std::vector<Row> rows(int64_t now, unsigned window) const {
    std::vector<Row> out;
    for (const auto& [key, r] : records_) {
      if (r.locked_until > now) {
        out.push_back({key, 0, r.locked_until - now, 0});
      } else if (live(r, now, window)) {
        out.push_back({key, r.failures, 0, window_left(r, now, window)});
      }
    }
    return out;
  }

  // Every record, least recently touched first.
  template <typename F>
  void each_oldest_first(F&& f) const {
    for (const Key& key : oldest_) f(key, records_.at(key));
  }

  // Whether a record still means anything at `now`: locked, or failures within its window.
  static bool live(int64_t locked_until, unsigned failures, int64_t window_start, int64_t now, unsigned window) {
    return locked_until > now || (failures > 0 && now - window_start < static_cast<int64_t>(window));
  }
  static bool live(const Record& r, int64_t now, unsigned window) {
    return live(r.locked_until, r.failures, r.window_start, now, window);
  }
  // Seconds until a counting record's failures are forgotten.
  static int64_t window_left(const Record& r, int64_t now, unsigned window) {
    return r.window_start + static_cast<int64_t>(window) - now;
  }

  size_t size() const { return records_.size(); }
  size_t locked_now(int64_t now) const {
    size_t n = 0;
    for (const auto& [key, r] : records_) n += r.locked_until > now;
    return n;
  }

 private:
  static void clear(Record& r, int64_t now) {
    r.locked_until = 0;
    r.failures = 0;
    r.window_start = now;
  }

  typename std::unordered_map<Key, Record>::iterator eviction_victim(int64_t now) {
    size_t looked = 0;
    for (auto age = oldest_.begin(); age != oldest_.end() && looked < kEvictionScan; ++age, ++looked) {
      const auto it = records_.find(*age);
      if (it->second.locked_until <= now) return it;
    }
    return records_.find(oldest_.front());
  }

  void erase(typename std::unordered_map<Key, Record>::iterator it) {
    oldest_.erase(it->second.age);
    records_.erase(it);
  }

  size_t max_tracked_;
  std::unordered_map<Key, Record> records_;
  std::list<Key> oldest_;  // least recently touched first
};

}  // namespace tsp
