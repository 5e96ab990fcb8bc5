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
