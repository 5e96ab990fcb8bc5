// The per-address limits on their own: unfinished sessions (SessionLimiter) and anonymous
// tunnels (AnonymousQuota). The servers and the tunnel service that use them have their own
// tests (test_tunnel_service "[limit]", e2e "[limits]").
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "control/anonymous_quota.hpp"
#include "control/session_limiter.hpp"

using namespace tsp;
using Admission = SessionLimiter::Admission;

namespace {
const Ipv4Addr kA{0xC6336407};  // 198.51.100.7
const Ipv4Addr kB{0xC6336408};  // 198.51.100.8
}  // namespace

TEST_CASE("sessions: one address gets at most its share, the others the rest", "[limits][sessions]") {
  SessionLimiter limiter(5, 3);
  for (int i = 0; i < 3; ++i) CHECK(limiter.try_acquire(kA) == Admission::admitted);
  CHECK(limiter.try_acquire(kA) == Admission::address_full);
  CHECK(limiter.active() == 3);  // a refusal takes nothing
  CHECK(limiter.try_acquire(kB) == Admission::admitted);
  CHECK(limiter.try_acquire(kB) == Admission::admitted);
  // All five taken: the total limit speaks first, for every address.
  CHECK(limiter.try_acquire(kB) == Admission::full);
  CHECK(limiter.try_acquire(kA) == Admission::full);
  CHECK(limiter.try_acquire(Ipv4Addr{0x0A000001}) == Admission::full);

  const auto f = limiter.figures();
  CHECK(f.unfinished == 5);
  CHECK(f.addresses == 2);
  CHECK(f.addresses_at_limit == 1);

  // Room in all again, but not for kA: its share is taken.
  limiter.release(kB);
  CHECK(limiter.try_acquire(kA) == Admission::address_full);
  CHECK(limiter.try_acquire(kB) == Admission::admitted);
  // kA finishes one: the next from kA is admitted, and kB (at 2 of 3) would be too.
  limiter.release(kA);
  CHECK(limiter.try_acquire(kA) == Admission::admitted);
  CHECK(limiter.figures().addresses_at_limit == 1);
}

TEST_CASE("sessions: a release for an address with none is ignored; addresses are forgotten at zero",
          "[limits][sessions]") {
  SessionLimiter limiter(10, 2);
  limiter.release(kA);
  CHECK(limiter.active() == 0);
  REQUIRE(limiter.try_acquire(kA) == Admission::admitted);
  limiter.release(kA);
  limiter.release(kA);
  CHECK(limiter.active() == 0);
  CHECK(limiter.figures().addresses == 0);
  CHECK(limiter.try_acquire(kA) == Admission::admitted);
  CHECK(limiter.try_acquire(kA) == Admission::admitted);
  CHECK(limiter.try_acquire(kA) == Admission::address_full);
}

TEST_CASE("sessions: per-address 0 is no limit of its own; a reload changes both limits", "[limits][sessions]") {
  SessionLimiter limiter(4, 0);
  for (int i = 0; i < 4; ++i) CHECK(limiter.try_acquire(kA) == Admission::admitted);
  CHECK(limiter.try_acquire(kA) == Admission::full);
  CHECK(limiter.figures().addresses_at_limit == 0);

  // Lower than what is running: those finish, new ones wait for room.
  limiter.set_limits(10, 2);
  CHECK(limiter.try_acquire(kA) == Admission::address_full);
  CHECK(limiter.try_acquire(kB) == Admission::admitted);
  limiter.release(kA);
  limiter.release(kA);
  CHECK(limiter.try_acquire(kA) == Admission::address_full);  // still 2 of kA's
  limiter.release(kA);
  CHECK(limiter.try_acquire(kA) == Admission::admitted);
  CHECK(limiter.figures().addresses_at_limit == 1);
}

TEST_CASE("sessions: the UDP and TCP threads share one limiter", "[limits][sessions]") {
  SessionLimiter limiter(100000, 1000);
  std::vector<std::thread> threads;
  std::atomic<int> refused{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const Ipv4Addr addr{0x0A000000u + static_cast<uint32_t>(t % 2)};  // two threads per address
      for (int i = 0; i < 20000; ++i) {
        if (limiter.try_acquire(addr) == Admission::admitted) limiter.release(addr);
        else ++refused;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(refused == 0);
  CHECK(limiter.active() == 0);
  CHECK(limiter.figures().addresses == 0);
}

TEST_CASE("anonymous quota: offers and live tunnels count until withdrawn or gone", "[limits][anonymous]") {
  AnonymousQuota quota;
  CHECK(quota.has_room(kA.value, 2));
  quota.offered(kA.value);
  quota.offered(kA.value);
  CHECK_FALSE(quota.has_room(kA.value, 2));
  CHECK(quota.has_room(kA.value, 0));  // 0: no limit
  CHECK(quota.has_room(kB.value, 2));

  quota.offer_live(7, kA.value);  // one offer went live as tunnel 7
  CHECK(quota.held_by(kA.value) == 2);
  CHECK(quota.address_of(7) == kA.value);
  quota.offer_withdrawn(kA.value);  // the other was rejected
  CHECK(quota.held_by(kA.value) == 1);
  quota.gone(8);  // not counted: nothing
  CHECK(quota.held_by(kA.value) == 1);
  quota.gone(7);
  CHECK(quota.held_by(kA.value) == 0);
  CHECK_FALSE(quota.address_of(7).has_value());
  CHECK(quota.addresses() == 0);
  quota.gone(7);  // twice: still nothing
  quota.offer_withdrawn(kA.value);
  CHECK(quota.held_by(kA.value) == 0);

  quota.reloaded(3, kB.value);
  CHECK(quota.held_by(kB.value) == 1);
  CHECK(quota.address_of(3) == kB.value);
}
