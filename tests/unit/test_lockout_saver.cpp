// The daemon's periodic save of the lockout state (control/daemon/lockout_saver.hpp), against
// a real SQLite store: what a crash would otherwise lose is in the store within an interval.
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <thread>

#include "control/auth_lockout.hpp"
#include "control/daemon/lockout_saver.hpp"
#include "control/store/store.hpp"

namespace tsp::daemon {
namespace {

using namespace std::chrono_literals;

constexpr int64_t kNow = 1'700'000'000;
constexpr Ipv4Addr kGuesser{0xC6336407};  // 198.51.100.7

struct TempStore {
  std::string dir;
  std::unique_ptr<store::Store> store;
  TempStore() {
    char templ[] = "/tmp/tsp-lockout-saver-XXXXXX";
    REQUIRE(mkdtemp(templ) != nullptr);
    dir = templ;
    store = store::Store::open_sqlite(dir + "/broker.db");
  }
  ~TempStore() {
    store.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
};

// Polls until `done` or the deadline; the saver's thread runs on its own clock.
template <typename Done>
bool within(std::chrono::milliseconds limit, Done done) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

}  // namespace

TEST_CASE("the lockout saver writes what changed every interval, and nothing unchanged", "[lockout][saver]") {
  TempStore s;
  AuthLockout lockout({3, 60, 300, 20, 3600});
  LockoutSaver saver(lockout, *s.store, [] { return kNow; }, 1);

  lockout.failed(kGuesser, kNow);
  lockout.user_failed("alice", kNow);
  REQUIRE(within(3s, [&] { return saver.saves() == 1; }));
  const auto saved = s.store->load_lockouts();
  REQUIRE(saved.sources.size() == 1);
  CHECK(saved.sources[0].address == kGuesser);
  CHECK(saved.sources[0].failures == 1);
  REQUIRE(saved.users.size() == 1);
  CHECK(saved.users[0].name == "alice");

  INFO("an interval with no change writes nothing");
  std::this_thread::sleep_for(1300ms);
  CHECK(saver.saves() == 1);

  INFO("the lock that follows is saved at the next interval");
  lockout.failed(kGuesser, kNow);
  lockout.failed(kGuesser, kNow);
  REQUIRE(within(3s, [&] { return saver.saves() == 2; }));
  const auto locked = s.store->load_lockouts();
  REQUIRE(locked.sources.size() == 1);
  CHECK(locked.sources[0].locked_until == kNow + 300);
  CHECK(saver.failures() == 0);

  INFO("a restart takes it back from the store");
  AuthLockout after_restart({3, 60, 300, 20, 3600});
  after_restart.restore(s.store->load_lockouts(), kNow + 10);
  CHECK(after_restart.locked_for(kGuesser, kNow + 10) == 290);
}

TEST_CASE("the lockout saver's interval follows a reload; 0 saves nothing while running", "[lockout][saver]") {
  TempStore s;
  AuthLockout lockout;
  LockoutSaver saver(lockout, *s.store, [] { return kNow; }, 0);
  lockout.failed(kGuesser, kNow);
  std::this_thread::sleep_for(1200ms);
  CHECK(saver.saves() == 0);
  CHECK(s.store->load_lockouts().sources.empty());

  saver.set_interval(1);
  REQUIRE(within(3s, [&] { return saver.saves() == 1; }));
  CHECK(s.store->load_lockouts().sources.size() == 1);

  saver.set_interval(0);
  lockout.failed(Ipv4Addr{0xC6336408}, kNow);
  std::this_thread::sleep_for(1300ms);
  CHECK(saver.saves() == 1);
  CHECK(s.store->load_lockouts().sources.size() == 1);
}

}  // namespace tsp::daemon
