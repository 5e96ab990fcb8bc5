// AuthLockout: counting failed password logins per address and per user name, the lockouts,
// the trusted addresses of a locked user, and the bounds.
#include <catch2/catch.hpp>

#include <string>

#include "control/auth_lockout.hpp"

using namespace tsp;

namespace {
constexpr int64_t kT0 = 1'700'000'000;
Ipv4Addr addr(uint32_t value) { return Ipv4Addr{value}; }
}  // namespace

TEST_CASE("an address is locked on its Nth failure within the window, for the duration", "[lockout]") {
  AuthLockout lockout({3, 60, 300});
  const Ipv4Addr a = addr(0xC6336407);
  CHECK_FALSE(lockout.failed(a, kT0));
  CHECK_FALSE(lockout.failed(a, kT0 + 10));
  CHECK(lockout.locked_for(a, kT0 + 10) == 0);
  CHECK(lockout.failed(a, kT0 + 59));  // the third within 60 s
  CHECK(lockout.locked_for(a, kT0 + 59) == 300);
  CHECK(lockout.locked_for(a, kT0 + 358) == 1);
  CHECK(lockout.locked_for(a, kT0 + 359) == 0);
  CHECK(lockout.locked_now(kT0 + 100) == 1);
  CHECK(lockout.locked_now(kT0 + 359) == 0);
  // Afterwards the count starts from nothing.
  CHECK_FALSE(lockout.failed(a, kT0 + 360));
  CHECK_FALSE(lockout.failed(a, kT0 + 361));
  CHECK(lockout.failed(a, kT0 + 362));
}

TEST_CASE("failures spread wider than the window never lock", "[lockout]") {
  AuthLockout lockout({3, 60, 300});
  const Ipv4Addr a = addr(1);
  for (int i = 0; i < 20; ++i) {
    CHECK_FALSE(lockout.failed(a, kT0 + 30 * i));  // a window holds two of them at most
    CHECK(lockout.locked_for(a, kT0 + 30 * i) == 0);
  }
}

TEST_CASE("addresses are counted apart; a success forgets the address's failures", "[lockout]") {
  AuthLockout lockout({2, 60, 300});
  const Ipv4Addr a = addr(1), b = addr(2);
  CHECK_FALSE(lockout.failed(a, kT0));
  CHECK_FALSE(lockout.failed(b, kT0));
  lockout.succeeded(a);
  CHECK(lockout.tracked() == 1);
  CHECK_FALSE(lockout.failed(a, kT0 + 1));  // a's count started again
  CHECK(lockout.failed(b, kT0 + 1));
  CHECK(lockout.locked_for(b, kT0 + 1) == 300);
  CHECK(lockout.locked_for(a, kT0 + 1) == 0);
}

TEST_CASE("0 failures turns the lockout off; a reload changes the rules, not running locks", "[lockout]") {
  AuthLockout lockout({0, 60, 300});
  const Ipv4Addr a = addr(7);
  for (int i = 0; i < 100; ++i) CHECK_FALSE(lockout.failed(a, kT0));
  CHECK(lockout.tracked() == 0);

  lockout.set_policy({1, 60, 100});
  CHECK(lockout.failed(a, kT0));
  CHECK(lockout.locked_for(a, kT0) == 100);
  lockout.set_policy({5, 60, 900});
  CHECK(lockout.locked_for(a, kT0 + 50) == 50);  // the running lock keeps its end
  CHECK(lockout.policy().duration == 900);
}

TEST_CASE("at most kMaxTrackedSources addresses are remembered, the stalest forgotten first", "[lockout]") {
  AuthLockout lockout({2, 3600, 300});
  const uint32_t n = AuthLockout::kMaxTrackedSources;
  for (uint32_t i = 0; i < n; ++i) CHECK_FALSE(lockout.failed(addr(i), kT0));
  CHECK(lockout.tracked() == n);
  // Address 0 failed again: now the most recent. One more address evicts address 1, the stalest.
  CHECK(lockout.failed(addr(0), kT0 + 1));
  CHECK_FALSE(lockout.failed(addr(n), kT0 + 2));
  CHECK(lockout.tracked() == n);
  CHECK(lockout.locked_for(addr(0), kT0 + 2) == 299);  // kept
  CHECK(lockout.failed(addr(2), kT0 + 3));        // remembered: its second
  CHECK_FALSE(lockout.failed(addr(1), kT0 + 3));  // forgotten: its first failure again
}

TEST_CASE("the operator's view lists locked and counting addresses in order; unlock forgets them", "[lockout]") {
  AuthLockout lockout({2, 60, 300});
  const Ipv4Addr low = addr(0x0A000001), high = addr(0xC6336407), aged = addr(0x0A000002);
  CHECK(lockout.view(kT0).empty());
  CHECK_FALSE(lockout.failed(aged, kT0 - 100));  // its window ended before kT0
  CHECK_FALSE(lockout.failed(high, kT0));
  CHECK(lockout.failed(high, kT0 + 1));          // locked until kT0 + 301
  CHECK_FALSE(lockout.failed(low, kT0 + 10));    // one failure, window ends at kT0 + 70

  const auto v = lockout.view(kT0 + 20);
  REQUIRE(v.size() == 2);  // the aged record locks nothing and is left out
  CHECK(v[0].source == low);
  CHECK(v[0].failures == 1);
  CHECK(v[0].locked_for == 0);
  CHECK(v[0].window_left == 50);
  CHECK(v[1].source == high);
  CHECK(v[1].failures == 0);
  CHECK(v[1].locked_for == 281);
  CHECK(v[1].window_left == 0);
  CHECK(lockout.view(kT0 + 301).empty());  // the lock ran out, low's window too

  CHECK(lockout.unlock(high));
  CHECK_FALSE(lockout.unlock(high));        // already forgotten
  CHECK(lockout.locked_for(high, kT0 + 20) == 0);
  CHECK_FALSE(lockout.failed(high, kT0 + 21));  // its count starts afresh
  CHECK(lockout.view(kT0 + 21).size() == 2);

  CHECK(lockout.failed(low, kT0 + 22));  // low's second: locked
  CHECK(lockout.unlock_all(kT0 + 23).addresses == 1);
  CHECK(lockout.tracked() == 0);
  CHECK(lockout.view(kT0 + 23).empty());
  // The eviction order survives a clear: filling up again evicts the first one in.
  CHECK_FALSE(lockout.failed(low, kT0 + 24));
  CHECK(lockout.locked_for(low, kT0 + 24) == 0);
}

// ---- Per user name ----

TEST_CASE("a user name is locked on its Nth failure from any addresses, within the user window", "[lockout][user]") {
  AuthLockout lockout({5, 60, 300, 3, 3600});
  // Three addresses, one failure each: none of them near its own limit.
  CHECK_FALSE(lockout.user_failed("alice", kT0));
  CHECK_FALSE(lockout.user_failed("alice", kT0 + 1000));
  CHECK(lockout.user_locked_for("alice", addr(9), kT0 + 1000) == 0);
  CHECK(lockout.user_failed("alice", kT0 + 3599));  // the third within the hour
  CHECK(lockout.user_locked_for("alice", addr(9), kT0 + 3599) == 300);
  CHECK(lockout.user_locked_for("alice", addr(9), kT0 + 3898) == 1);
  CHECK(lockout.user_locked_for("alice", addr(9), kT0 + 3899) == 0);
  CHECK(lockout.user_locked_for("bob", addr(9), kT0 + 3599) == 0);  // names are counted apart
  CHECK(lockout.locked_users_now(kT0 + 3600) == 1);
  CHECK(lockout.tracked() == 0);  // no address failure was reported

  INFO("failures further apart than the user window never lock");
  for (int i = 0; i < 10; ++i) CHECK_FALSE(lockout.user_failed("carol", kT0 + 2000 * i));
  INFO("an unknown name is counted like a real one: a lock tells nothing about which names exist");
  CHECK_FALSE(lockout.user_failed("no-such-user", kT0));
  CHECK_FALSE(lockout.user_failed("no-such-user", kT0));
  CHECK(lockout.user_failed("no-such-user", kT0));
}

TEST_CASE("addresses that proved a user's password are not held to its lock", "[lockout][user]") {
  AuthLockout lockout({5, 60, 300, 2, 3600});
  const Ipv4Addr home = addr(0xC6336407), office = addr(0xC6336408), attacker = addr(0x0A000001);
  lockout.user_succeeded("alice", home, kT0);
  CHECK_FALSE(lockout.user_failed("alice", kT0 + 1));
  CHECK(lockout.user_failed("alice", kT0 + 2));
  CHECK(lockout.user_locked_for("alice", attacker, kT0 + 3) == 299);
  CHECK(lockout.user_locked_for("alice", office, kT0 + 3) == 299);  // never proved it: held
  CHECK(lockout.user_locked_for("alice", home, kT0 + 3) == 0);
  // A success from home forgets the failures but keeps the running lock for everyone else.
  lockout.user_succeeded("alice", home, kT0 + 4);
  CHECK(lockout.user_locked_for("alice", attacker, kT0 + 4) == 298);
  const auto v = lockout.user_view(kT0 + 4);
  REQUIRE(v.size() == 1);
  CHECK(v[0].user == "alice");
  CHECK(v[0].locked_for == 298);
  CHECK(v[0].trusted_sources == 1);

  INFO("the last kTrustedSourcesPerUser addresses are trusted, most recent first");
  for (uint32_t i = 0; i < AuthLockout::kTrustedSourcesPerUser; ++i) lockout.user_succeeded("alice", addr(100 + i), kT0 + 5);
  CHECK(lockout.user_locked_for("alice", home, kT0 + 6) == 296);  // pushed out
  for (uint32_t i = 0; i < AuthLockout::kTrustedSourcesPerUser; ++i)
    CHECK(lockout.user_locked_for("alice", addr(100 + i), kT0 + 6) == 0);
  lockout.user_succeeded("alice", addr(100), kT0 + 7);  // already trusted: moves to the front
  lockout.user_succeeded("alice", office, kT0 + 7);     // pushes out the oldest, 101
  CHECK(lockout.user_locked_for("alice", addr(100), kT0 + 8) == 0);
  CHECK(lockout.user_locked_for("alice", addr(101), kT0 + 8) == 294);
  CHECK(lockout.user_locked_for("alice", office, kT0 + 8) == 0);
  CHECK(lockout.user_view(kT0 + 8)[0].trusted_sources == AuthLockout::kTrustedSourcesPerUser);
}

TEST_CASE("user lockout: off at 0, unlock_user and unlock_all lift it, long names are cut", "[lockout][user]") {
  AuthLockout lockout({5, 60, 300, 0, 3600});
  for (int i = 0; i < 100; ++i) CHECK_FALSE(lockout.user_failed("alice", kT0));
  CHECK(lockout.tracked_users() == 0);

  lockout.set_policy({5, 60, 300, 1, 3600});
  CHECK(lockout.user_failed("alice", kT0));
  CHECK(lockout.user_failed("bob", kT0 - 4000));  // bob: locked at once, long ago
  CHECK(lockout.user_view(kT0).size() == 1);  // bob's lock ran out long ago
  lockout.user_succeeded("alice", addr(1), kT0 + 1);
  CHECK(lockout.unlock_user("alice", kT0 + 2) == AuthLockout::Lifted::Lock);
  CHECK(lockout.user_locked_for("alice", addr(2), kT0 + 2) == 0);
  CHECK(lockout.unlock_user("alice", kT0 + 2) == AuthLockout::Lifted::Nothing);  // nothing left to lift
  CHECK(lockout.unlock_user("nobody", kT0 + 2) == AuthLockout::Lifted::Nothing);
  CHECK(lockout.tracked_users() == 2);  // alice keeps her trusted address

  lockout.set_policy({5, 60, 300, 3, 3600});
  CHECK_FALSE(lockout.user_failed("carol", kT0 + 3));
  CHECK(lockout.unlock_user("carol", kT0 + 4) == AuthLockout::Lifted::Failures);
  CHECK_FALSE(lockout.user_failed("carol", kT0 + 5));
  CHECK_FALSE(lockout.user_failed("carol", kT0 + 5));  // its count started again
  CHECK(lockout.user_failed("carol", kT0 + 5));
  CHECK(lockout.failed(addr(7), kT0 + 5) == false);
  const LockoutCounts lifted = lockout.unlock_all(kT0 + 6);
  CHECK(lifted.users == 1);
  CHECK(lifted.addresses == 0);
  CHECK(lockout.user_view(kT0 + 6).empty());
  CHECK(lockout.tracked() == 0);

  const std::string long_name(1000, 'x');
  CHECK_FALSE(lockout.user_failed(long_name, kT0 + 7));
  CHECK_FALSE(lockout.user_failed(long_name.substr(0, AuthLockout::kMaxUserKeyBytes) + "y", kT0 + 7));
  CHECK(lockout.user_failed(long_name, kT0 + 7));  // one key for every name with that start
  CHECK(lockout.user_view(kT0 + 7).back().user.size() == AuthLockout::kMaxUserKeyBytes);
}

TEST_CASE("at most kMaxTrackedUsers names are remembered, the stalest forgotten first", "[lockout][user]") {
  AuthLockout lockout({5, 60, 300, 2, 3600});
  lockout.user_succeeded("alice", addr(1), kT0);
  CHECK_FALSE(lockout.user_failed("bob", kT0));
  for (size_t i = 2; i < AuthLockout::kMaxTrackedUsers; ++i) CHECK_FALSE(lockout.user_failed("u" + std::to_string(i), kT0 + 1));
  CHECK(lockout.tracked_users() == AuthLockout::kMaxTrackedUsers);
  CHECK_FALSE(lockout.user_failed("alice", kT0 + 2));  // alice is now the most recent
  CHECK_FALSE(lockout.user_failed("new", kT0 + 3));    // evicts bob
  CHECK(lockout.tracked_users() == AuthLockout::kMaxTrackedUsers);
  CHECK_FALSE(lockout.user_failed("bob", kT0 + 4));  // forgotten: its first failure again (evicts u2)
  CHECK(lockout.user_failed("alice", kT0 + 4));      // remembered: its second
  CHECK(lockout.user_locked_for("alice", addr(1), kT0 + 4) == 0);  // and its trusted address with it
}

TEST_CASE("eviction passes over locked records: a flood of new keys does not lift locks", "[lockout]") {
  AuthLockout lockout({1, 60, 300, 1, 3600});
  const uint32_t n = AuthLockout::kMaxTrackedSources;
  CHECK(lockout.failed(addr(0), kT0));  // locked at once, and the stalest record
  for (uint32_t i = 1; i < n; ++i) lockout.failed(addr(i), kT0 - 1000);  // locks long over
  CHECK(lockout.tracked() == n);
  lockout.failed(addr(n), kT0 + 1);  // one more: address 1 goes, not the locked address 0
  CHECK(lockout.locked_for(addr(0), kT0 + 1) == 299);
  CHECK(lockout.tracked() == n);

  CHECK(lockout.user_failed("victim", kT0));
  for (size_t i = 1; i < AuthLockout::kMaxTrackedUsers + 100; ++i) lockout.user_succeeded("u" + std::to_string(i), addr(1), kT0);
  CHECK(lockout.user_locked_for("victim", addr(2), kT0 + 1) == 299);
  CHECK(lockout.tracked_users() == AuthLockout::kMaxTrackedUsers);
}

TEST_CASE("a snapshot taken at shutdown and restored at start keeps locks, counts and trusted addresses", "[lockout]") {
  AuthLockout before({2, 60, 300, 2, 3600});
  const Ipv4Addr locked = addr(1), counting = addr(2), aged = addr(3), home = addr(4);
  CHECK_FALSE(before.failed(aged, kT0 - 500));  // its window ended long ago: not kept
  before.failed(locked, kT0);
  before.failed(locked, kT0);                    // locked until kT0 + 300
  CHECK_FALSE(before.failed(counting, kT0 + 1));
  before.user_succeeded("alice", home, kT0 + 2);
  before.user_failed("alice", kT0 + 3);
  before.user_failed("alice", kT0 + 3);          // locked until kT0 + 303
  before.user_failed("bob", kT0 + 4);            // counting
  before.user_succeeded("carol", home, kT0 + 5); // trusted only
  before.user_succeeded("carol", addr(5), kT0 + 5);
  before.user_failed("old", kT0 - 4000);         // its user window ended: not kept

  const auto saved = before.snapshot(kT0 + 10);
  REQUIRE(saved.sources.size() == 2);
  CHECK(saved.sources[0] == store::SourceLockoutRecord{locked, kT0 + 300, 0, kT0 + 300});
  CHECK(saved.sources[1] == store::SourceLockoutRecord{counting, kT0 + 1, 1, 0});
  REQUIRE(saved.users.size() == 3);
  CHECK(saved.users[0].name == "alice");
  CHECK(saved.users[0].locked_until == kT0 + 303);
  CHECK(saved.users[0].trusted_sources == std::vector<Ipv4Addr>{home});
  CHECK(saved.users[1].name == "bob");
  CHECK(saved.users[2].trusted_sources == std::vector<Ipv4Addr>{addr(5), home});  // most recent first

  AuthLockout after({2, 60, 300, 2, 3600});
  const LockoutCounts taken = after.restore(saved, kT0 + 20);
  CHECK(taken.addresses == 2);
  CHECK(taken.users == 3);
  CHECK(after.locked_for(locked, kT0 + 20) == 280);
  CHECK(after.failed(counting, kT0 + 21));  // its second failure within the window: locked
  CHECK(after.user_locked_for("alice", addr(9), kT0 + 20) == 283);
  CHECK(after.user_locked_for("alice", home, kT0 + 20) == 0);  // still trusted
  CHECK(after.trusted_source("carol", addr(5)));
  CHECK(after.trusted_source("carol", home));
  CHECK(after.user_failed("bob", kT0 + 21));  // bob's second
  CHECK(after.snapshot(kT0 + 20).users.front().name == "alice");  // the order kept

  INFO("a snapshot restored later leaves out what ran out meanwhile");
  AuthLockout much_later({2, 60, 300, 2, 3600});
  const LockoutCounts later = much_later.restore(saved, kT0 + 5000);
  CHECK(later.addresses == 0);
  CHECK(later.users == 2);  // alice and carol, for their trusted addresses
  CHECK(much_later.tracked() == 0);
  CHECK(much_later.user_locked_for("alice", addr(9), kT0 + 5000) == 0);
  CHECK(much_later.trusted_source("alice", home));
}
