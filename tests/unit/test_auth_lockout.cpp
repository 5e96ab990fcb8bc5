// AuthLockout: counting failed password logins per address, the lockout, and its bounds.
#include <catch2/catch.hpp>

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
  CHECK(lockout.unlock_all(kT0 + 23) == 1);
  CHECK(lockout.tracked() == 0);
  CHECK(lockout.view(kT0 + 23).empty());
  // The eviction order survives a clear: filling up again evicts the first one in.
  CHECK_FALSE(lockout.failed(low, kT0 + 24));
  CHECK(lockout.locked_for(low, kT0 + 24) == 0);
}
