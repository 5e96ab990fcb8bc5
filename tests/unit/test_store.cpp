#include <sqlite3.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "control/store/store.hpp"
#include "tests/unit/scratch_dir.hpp"
#include "tests/unit/store_test_records.hpp"

using namespace tsp;
using namespace tsp::store;
using namespace tsp::test;

namespace {

// A scratch directory with the store's file in it.
struct TempDir : tsp::test::ScratchDir {
  TempDir() : ScratchDir("tsp-store-test") {}
  std::string db() const { return file("broker.db"); }
};


StoredCredentials credentials(uint8_t seed) {
  StoredCredentials c;
  c.realm = "broker.example.net";
  for (size_t i = 0; i < c.digest_md5_urp.size(); ++i) c.digest_md5_urp[i] = uint8_t(seed + i);
  c.scram_salt = {seed, 0x00, 0xff, uint8_t(seed ^ 0x5a)};
  c.scram_iterations = 4096u + seed;
  for (size_t i = 0; i < c.scram_stored_key.size(); ++i) c.scram_stored_key[i] = uint8_t(seed * 3 + i);
  for (size_t i = 0; i < c.scram_server_key.size(); ++i) c.scram_server_key[i] = uint8_t(seed * 7 + i);
  return c;
}

void check_same_credentials(const StoredCredentials& a, const StoredCredentials& b) {
  CHECK(a.realm == b.realm);
  CHECK(a.digest_md5_urp == b.digest_md5_urp);
  CHECK(a.scram_salt == b.scram_salt);
  CHECK(a.scram_iterations == b.scram_iterations);
  CHECK(a.scram_stored_key == b.scram_stored_key);
  CHECK(a.scram_server_key == b.scram_server_key);
}

UserRecord user(const std::string& name, uint8_t seed) {
  return UserRecord{name, credentials(seed), true, 1700000000 + seed};
}

// Runs one SQL statement on the file behind the store's back (an admin with the CLI).
void raw_exec(const std::string& db, const std::string& sql) {
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(h, sql.c_str(), nullptr, nullptr, &err);
  const std::string msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(h);
  INFO(msg);
  REQUIRE(rc == SQLITE_OK);
}

std::string raw_text(const std::string& db, const std::string& sql) {
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
  std::string out;
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
  return out;
}

}  // namespace

TEST_CASE("users: add, duplicate, find, update, list, delete") {
  TempDir dir;
  auto store = Store::open_sqlite(dir.db());

  CHECK(store->add_user(user("bob", 2)));
  CHECK(store->add_user(user("alice", 1)));
  CHECK_FALSE(store->add_user(user("alice", 9)));  // name taken: the first one stays

  auto alice = store->find_user("alice");
  REQUIRE(alice);
  CHECK(alice->name == "alice");
  CHECK(alice->enabled);
  CHECK(alice->created_at == 1700000001);
  check_same_credentials(alice->credentials, credentials(1));
  CHECK_FALSE(store->find_user("carol"));

  auto disabled = user("carol", 3);
  disabled.enabled = false;
  disabled.credentials.scram_salt.clear();  // an empty salt is a valid blob, not NULL
  REQUIRE(store->add_user(disabled));
  auto carol = store->find_user("carol");
  REQUIRE(carol);
  CHECK_FALSE(carol->enabled);
  CHECK(carol->credentials.scram_salt.empty());

  CHECK(store->update_credentials("alice", credentials(42)));
  CHECK_FALSE(store->update_credentials("nobody", credentials(42)));
  check_same_credentials(store->find_user("alice")->credentials, credentials(42));

  auto users = store->list_users();
  REQUIRE(users.size() == 3);
  CHECK(users[0].name == "alice");
  CHECK(users[1].name == "bob");
  CHECK(users[2].name == "carol");
  check_same_credentials(users[1].credentials, credentials(2));

  CHECK(store->delete_user("bob"));
  CHECK_FALSE(store->delete_user("bob"));
  CHECK_FALSE(store->find_user("bob"));
  CHECK(store->list_users().size() == 2);
}

TEST_CASE("users: an empty name is refused with a clear error") {
  TempDir dir;
  auto store = Store::open_sqlite(dir.db());
  CHECK_THROWS_WITH(store->add_user(user("", 1)), Catch::Contains("add_user") && Catch::Contains("empty user name"));
}

TEST_CASE("allocations: upsert, find, reload, cascade on user deletion") {
  TempDir dir;
  auto store = Store::open_sqlite(dir.db());
  REQUIRE(store->add_user(user("alice", 1)));
  REQUIRE(store->add_user(user("bob", 2)));

  CHECK_FALSE(store->find_allocation("alice", "endpoints"));
  store->save_allocation("alice", "endpoints", prefix("2001:db8:ffff::2/128"));
  store->save_allocation("alice", "p48", prefix("2001:db8:f100::/48"));
  store->save_allocation("bob", "p48", prefix("2001:db8:f101::/48"));
  CHECK(store->find_allocation("alice", "p48") == prefix("2001:db8:f100::/48"));

  // Upsert: one allocation per (user, pool), the new block replaces the old one.
  store->save_allocation("alice", "p48", prefix("2001:db8:f102::/48"));
  CHECK(store->find_allocation("alice", "p48") == prefix("2001:db8:f102::/48"));

  const std::vector<AllocationRecord> expected{
      {"alice", "endpoints", prefix("2001:db8:ffff::2/128")},
      {"alice", "p48", prefix("2001:db8:f102::/48")},
      {"bob", "p48", prefix("2001:db8:f101::/48")},
  };
  CHECK(store->load_allocations() == expected);
  // Readable with the sqlite3 CLI: canonical compressed text.
  CHECK(raw_text(dir.db(), "SELECT block FROM allocations WHERE user = 'bob'") == "2001:db8:f101::/48");

  SECTION("a block already owned by another user is refused") {
    CHECK_THROWS_WITH(store->save_allocation("bob", "p48", prefix("2001:db8:f102::/48")),
                      Catch::Contains("UNIQUE") && Catch::Contains("user 'bob', pool 'p48', block 2001:db8:f102::/48"));
    CHECK(store->find_allocation("bob", "p48") == prefix("2001:db8:f101::/48"));
  }
  SECTION("an allocation for an unknown user is refused") {
    CHECK_THROWS_WITH(store->save_allocation("nobody", "p48", prefix("2001:db8:f1ff::/48")),
                      Catch::Contains("save_allocation") && Catch::Contains("FOREIGN KEY") &&
                          Catch::Contains("user 'nobody'"));
  }
  SECTION("deleting a user deletes their allocations") {
    REQUIRE(store->delete_user("alice"));
    CHECK_FALSE(store->find_allocation("alice", "p48"));
    CHECK(store->load_allocations() == std::vector<AllocationRecord>{expected[2]});
  }
}

TEST_CASE("tunnels: save, replace, touch, delete, reload with every field") {
  TempDir dir;
  auto store = Store::open_sqlite(dir.db());
  const TunnelRecord registered = udp_tunnel_with_prefix(7);
  const TunnelRecord anonymous = anonymous_v6v4(3);
  store->save_tunnel(registered);
  store->save_tunnel(anonymous);

  auto tunnels = store->load_tunnels();
  REQUIRE(tunnels.size() == 2);
  CHECK(tunnels[0] == anonymous);  // ordered by id
  CHECK(tunnels[1] == registered);
  CHECK_FALSE(tunnels[0].prefix);
  CHECK(tunnels[0].user.empty());
  CHECK(tunnels[1].prefix == prefix("2001:db8:f100::/48"));
  CHECK(tunnels[1].mode == TunnelModeRec::V6UDPV4);
  CHECK(raw_text(dir.db(), "SELECT client_v6 || ' ' || mode || ' ' || client_v4 FROM tunnels WHERE id = 7") ==
        "2001:db8:ffff::2 v6udpv4 198.51.100.7");
  CHECK(raw_text(dir.db(), "SELECT quote(prefix) FROM tunnels WHERE id = 3") == "NULL");

  // Same id: the client moved to a new IPv4 address and lost its prefix.
  TunnelRecord moved = registered;
  moved.client_v4 = v4("198.51.100.99");
  moved.client_port = 1;
  moved.prefix.reset();
  moved.prefix_pool.clear();
  moved.mode = TunnelModeRec::V6V4;
  moved.transport = "udp";
  store->save_tunnel(moved);
  tunnels = store->load_tunnels();
  REQUIRE(tunnels.size() == 2);
  CHECK(tunnels[1] == moved);

  store->touch_tunnel(7, 1800000000);
  store->touch_tunnel(999, 1800000000);  // unknown id: nothing to do
  tunnels = store->load_tunnels();
  REQUIRE(tunnels.size() == 2);
  CHECK(tunnels[1].last_seen == 1800000000);
  CHECK(tunnels[0].last_seen == INT64_MAX);

  CHECK(store->delete_tunnel(3));
  CHECK_FALSE(store->delete_tunnel(3));
  tunnels = store->load_tunnels();
  REQUIRE(tunnels.size() == 1);
  CHECK(tunnels[0].id == 7);
}

TEST_CASE("tunnels: invalid fields are refused, not stored") {
  TempDir dir;
  auto store = Store::open_sqlite(dir.db());
  TunnelRecord bad_transport = anonymous_v6v4(1);
  bad_transport.transport = "sctp";
  CHECK_THROWS_WITH(store->save_tunnel(bad_transport), Catch::Contains("save_tunnel") && Catch::Contains("CHECK"));
  TunnelRecord bad_mode = anonymous_v6v4(2);
  bad_mode.mode = static_cast<TunnelModeRec>(9);
  CHECK_THROWS_WITH(store->save_tunnel(bad_mode), Catch::Contains("unknown tunnel mode 9"));
  CHECK(store->load_tunnels().empty());
  // The failed calls left the cached statements reusable.
  store->save_tunnel(anonymous_v6v4(1));
  CHECK(store->load_tunnels().size() == 1);
}

TEST_CASE("quarantine: save, extend, delete, reload in expiry order") {
  TempDir dir;
  auto store = Store::open_sqlite(dir.db());
  store->save_quarantine({"endpoints", prefix("2001:db8:ffff::5/128"), 2000});
  store->save_quarantine({"p64", prefix("2001:db8:e000:1::/64"), 1000});
  store->save_quarantine({"p64", prefix("2001:db8:e000:2::/64"), 3000});
  const std::vector<QuarantineRecord> first{
      {"p64", prefix("2001:db8:e000:1::/64"), 1000},
      {"endpoints", prefix("2001:db8:ffff::5/128"), 2000},
      {"p64", prefix("2001:db8:e000:2::/64"), 3000},
  };
  CHECK(store->load_quarantine() == first);

  store->save_quarantine({"p64", prefix("2001:db8:e000:1::/64"), 5000});  // released again
  store->delete_quarantine("endpoints", prefix("2001:db8:ffff::5/128"));
  store->delete_quarantine("endpoints", prefix("2001:db8:ffff::6/128"));  // absent: no-op
  const std::vector<QuarantineRecord> second{
      {"p64", prefix("2001:db8:e000:2::/64"), 3000},
      {"p64", prefix("2001:db8:e000:1::/64"), 5000},
  };
  CHECK(store->load_quarantine() == second);
}

TEST_CASE("lockouts: saving replaces what was saved, loading keeps the order; bad rows are named") {
  TempDir dir;
  const Ipv4Addr a = *Ipv4Addr::parse("198.51.100.9"), b = *Ipv4Addr::parse("192.0.2.1");
  const LockoutRecords first{
      {{a, 1000, 0, 1300}, {b, 1200, 3, 0}},
      {{"zed", 1000, 2, 0, {}}, {"alice", 900, 0, 1250, {b, a, *Ipv4Addr::parse("203.0.113.7")}}},
  };
  {
    auto store = Store::open_sqlite(dir.db());
    CHECK(store->load_lockouts() == LockoutRecords{});
    store->save_lockouts(first);
    CHECK(store->load_lockouts() == first);  // the order saved, not the keys' order
  }
  CHECK(raw_text(dir.db(), "SELECT trusted FROM lockout_users WHERE name = 'alice'") ==
        "192.0.2.1 198.51.100.9 203.0.113.7");
  auto store = Store::open_sqlite(dir.db());
  CHECK(store->load_lockouts() == first);
  const LockoutRecords second{{{b, 2000, 1, 0}}, {}};
  store->save_lockouts(second);
  CHECK(store->load_lockouts() == second);
  store->save_lockouts(first);
  raw_exec(dir.db(), "UPDATE lockout_users SET trusted = '192.0.2.1 nonsense' WHERE name = 'alice'");
  CHECK_THROWS_WITH(Store::open_sqlite(dir.db())->load_lockouts(),
                    Catch::Contains("lockout of user 'alice': stored trusted is invalid: '192.0.2.1 nonsense'"));
}

TEST_CASE("secrets: the first value saved under a name stays, across reopening") {
  TempDir dir;
  const std::vector<uint8_t> first(32, 0x11), other(32, 0x22);
  {
    auto store = Store::open_sqlite(dir.db());
    CHECK_FALSE(store->find_secret("scram-fake-salt"));
    CHECK(store->save_secret("scram-fake-salt", first) == first);
    CHECK(store->save_secret("scram-fake-salt", other) == first);  // a second process racing gets the first
    CHECK(store->find_secret("scram-fake-salt") == first);
    CHECK_FALSE(store->find_secret("another"));
  }
  CHECK(Store::open_sqlite(dir.db())->find_secret("scram-fake-salt") == first);
}

TEST_CASE("a store of schema version 1 gains the lockout and secret tables and keeps its rows") {
  TempDir dir;
  Store::open_sqlite(dir.db())->save_tunnel(udp_tunnel_with_prefix(7));
  raw_exec(dir.db(), "DROP TABLE lockout_sources; DROP TABLE lockout_users; DROP TABLE secrets; PRAGMA user_version = 1");
  auto store = Store::open_sqlite(dir.db());
  CHECK(raw_text(dir.db(), "PRAGMA user_version") == "3");
  CHECK(store->load_tunnels() == std::vector<TunnelRecord>{udp_tunnel_with_prefix(7)});
  const LockoutRecords saved{{{*Ipv4Addr::parse("198.51.100.9"), 1000, 0, 1300}}, {}};
  store->save_lockouts(saved);
  CHECK(store->load_lockouts() == saved);
}

TEST_CASE("transaction: commit keeps everything, an exception leaves nothing") {
  TempDir dir;
  auto store = Store::open_sqlite(dir.db());
  REQUIRE(store->add_user(user("alice", 1)));
  store->save_tunnel(anonymous_v6v4(1));

  SECTION("rollback") {
    CHECK_THROWS_WITH(store->transaction([](Store& s) {
      REQUIRE(s.delete_tunnel(1));
      s.save_tunnel(udp_tunnel_with_prefix(2));
      s.save_allocation("alice", "p48", prefix("2001:db8:f100::/48"));
      s.save_quarantine({"p64", prefix("2001:db8:e000:1::/64"), 1000});
      REQUIRE(s.add_user(user("bob", 2)));
      throw std::runtime_error("client went away");
    }), "client went away");
    auto tunnels = store->load_tunnels();
    REQUIRE(tunnels.size() == 1);
    CHECK(tunnels[0] == anonymous_v6v4(1));
    CHECK(store->load_allocations().empty());
    CHECK(store->load_quarantine().empty());
    CHECK_FALSE(store->find_user("bob"));
    // The store is usable afterwards, also for another transaction.
    store->transaction([](Store& s) { s.save_tunnel(anonymous_v6v4(5)); });
    CHECK(store->load_tunnels().size() == 2);
  }
  SECTION("commit: a tunnel replaces another atomically") {
    store->transaction([](Store& s) {
      REQUIRE(s.delete_tunnel(1));
      s.save_tunnel(udp_tunnel_with_prefix(2));
    });
    auto tunnels = store->load_tunnels();
    REQUIRE(tunnels.size() == 1);
    CHECK(tunnels[0] == udp_tunnel_with_prefix(2));
  }
  SECTION("nested: an inner failure undoes only the inner work") {
    store->transaction([](Store& s) {
      s.save_tunnel(udp_tunnel_with_prefix(2));
      CHECK_THROWS_AS(s.transaction([](Store& inner) {
        inner.save_tunnel(udp_tunnel_with_prefix(3));
        REQUIRE(inner.delete_tunnel(1));
        throw StoreError("inner failed");
      }), StoreError);
      s.transaction([](Store& inner) { inner.save_quarantine({"p64", prefix("2001:db8:e000:9::/64"), 7}); });
    });
    auto tunnels = store->load_tunnels();
    REQUIRE(tunnels.size() == 2);
    CHECK(tunnels[0].id == 1);
    CHECK(tunnels[1].id == 2);
    CHECK(store->load_quarantine().size() == 1);
  }
  SECTION("nested: an outer failure undoes the committed inner work too") {
    CHECK_THROWS(store->transaction([](Store& s) {
      s.transaction([](Store& inner) { inner.save_tunnel(udp_tunnel_with_prefix(3)); });
      throw std::logic_error("outer failed");
    }));
    CHECK(store->load_tunnels().size() == 1);
  }
}

TEST_CASE("reopening the file keeps everything; the file is owner-only") {
  TempDir dir;
  {
    auto store = Store::open_sqlite(dir.db());
    REQUIRE(store->add_user(user("alice", 1)));
    store->save_allocation("alice", "p48", prefix("2001:db8:f100::/48"));
    store->save_tunnel(udp_tunnel_with_prefix(7));
    store->save_tunnel(anonymous_v6v4(8));
    store->save_quarantine({"p64", prefix("2001:db8:e000:1::/64"), 1000});
  }
  struct stat st {};
  REQUIRE(stat(dir.db().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(raw_text(dir.db(), "PRAGMA journal_mode") == "wal");
  CHECK(raw_text(dir.db(), "PRAGMA user_version") == "3");

  auto store = Store::open_sqlite(dir.db());
  REQUIRE(stat((dir.db() + "-wal").c_str(), &st) == 0);  // SQLite copies the mode to the WAL
  CHECK((st.st_mode & 0777) == 0600);
  auto alice = store->find_user("alice");
  REQUIRE(alice);
  check_same_credentials(alice->credentials, credentials(1));
  CHECK(store->find_allocation("alice", "p48") == prefix("2001:db8:f100::/48"));
  CHECK(store->load_tunnels() == std::vector<TunnelRecord>{udp_tunnel_with_prefix(7), anonymous_v6v4(8)});
  CHECK(store->load_quarantine() == std::vector<QuarantineRecord>{{"p64", prefix("2001:db8:e000:1::/64"), 1000}});
}

TEST_CASE("an in-memory store works, for tests of other modules") {
  auto store = Store::open_sqlite(":memory:");
  REQUIRE(store->add_user(user("alice", 1)));
  store->save_allocation("alice", "p48", prefix("2001:db8:f100::/48"));
  store->save_tunnel(udp_tunnel_with_prefix(1));
  CHECK(store->find_allocation("alice", "p48") == prefix("2001:db8:f100::/48"));
  CHECK(store->load_tunnels() == std::vector<TunnelRecord>{udp_tunnel_with_prefix(1)});
}

TEST_CASE("opening fails clearly: missing directory, not a database, newer schema") {
  TempDir dir;
  SECTION("missing directory") {
    const std::string path = dir.path + "/no/such/dir/broker.db";
    CHECK_THROWS_WITH(Store::open_sqlite(path), Catch::Contains(path) && Catch::Contains("unable to open"));
  }
  SECTION("a file that is not a database") {
    std::ofstream(dir.db()) << "this is not an SQLite database, just some text that is long enough";
    CHECK_THROWS_WITH(Store::open_sqlite(dir.db()),
                      Catch::Contains(dir.db()) && Catch::Contains("not a database"));
  }
  SECTION("a schema written by a newer broker") {
    Store::open_sqlite(dir.db()).reset();
    raw_exec(dir.db(), "PRAGMA user_version = 99");
    CHECK_THROWS_WITH(Store::open_sqlite(dir.db()),
                      Catch::Contains(dir.db()) && Catch::Contains("schema version 99"));
  }
}

TEST_CASE("rows edited into nonsense give an error naming the row and field") {
  TempDir dir;
  Store::open_sqlite(dir.db())->save_tunnel(udp_tunnel_with_prefix(7));
  SECTION("bad address") {
    raw_exec(dir.db(), "UPDATE tunnels SET client_v6 = 'not-an-address' WHERE id = 7");
    CHECK_THROWS_WITH(Store::open_sqlite(dir.db())->load_tunnels(),
                      Catch::Contains("load_tunnels: tunnel 7: stored client_v6 is invalid: 'not-an-address'"));
  }
  SECTION("prefix with host bits") {
    raw_exec(dir.db(), "UPDATE tunnels SET prefix = '2001:db8::1/48' WHERE id = 7");
    CHECK_THROWS_WITH(Store::open_sqlite(dir.db())->load_tunnels(), Catch::Contains("stored prefix is invalid"));
  }
  SECTION("bad mode (CHECK constraints are off for this admin)") {
    raw_exec(dir.db(), "PRAGMA ignore_check_constraints = 1; UPDATE tunnels SET mode = 'gre' WHERE id = 7");
    CHECK_THROWS_WITH(Store::open_sqlite(dir.db())->load_tunnels(), Catch::Contains("stored mode is invalid: 'gre'"));
  }
}

TEST_CASE("threads may share the store") {
  TempDir dir;
  auto store = Store::open_sqlite(dir.db());
  constexpr uint32_t kThreads = 4, kPerThread = 200;
  std::vector<std::thread> threads;
  for (uint32_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&store, t] {
      for (uint32_t i = 0; i < kPerThread; ++i) {
        const uint32_t id = t * kPerThread + i;
        if (i % 2 == 0) {
          store->save_tunnel(anonymous_v6v4(id));
        } else {
          store->transaction([id](Store& s) {
            s.save_tunnel(anonymous_v6v4(id));
            s.touch_tunnel(id, id);
          });
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  const auto tunnels = store->load_tunnels();
  REQUIRE(tunnels.size() == kThreads * kPerThread);
  for (uint32_t i = 0; i < tunnels.size(); ++i) REQUIRE(tunnels[i].id == i);
  CHECK(tunnels[1].last_seen == 1);
}

TEST_CASE("10k tunnels save and reload") {
  TempDir dir;
  constexpr uint32_t kTunnels = 10000;
  std::vector<TunnelRecord> saved;
  saved.reserve(kTunnels);
  for (uint32_t i = 0; i < kTunnels; ++i) {
    TunnelRecord t = (i % 2) ? udp_tunnel_with_prefix(i) : anonymous_v6v4(i);
    Ipv6Addr a = t.client_v6;
    a.bytes[14] = uint8_t(i >> 8);
    a.bytes[15] = uint8_t(i);
    t.client_v6 = a;
    t.client_v4.value += i;
    saved.push_back(std::move(t));
  }
  using Clock = std::chrono::steady_clock;
  auto ms = [](Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };

  auto store = Store::open_sqlite(dir.db());
  const auto t0 = Clock::now();
  for (const auto& t : saved) store->save_tunnel(t);  // one commit each, as on the session path
  const auto t1 = Clock::now();
  store.reset();
  store = Store::open_sqlite(dir.db());
  const auto loaded = store->load_tunnels();
  const auto t2 = Clock::now();
  store->transaction([&](Store& s) {
    for (const auto& t : saved) s.touch_tunnel(t.id, 1);
  });
  const auto t3 = Clock::now();
  WARN("10k tunnels: save " << ms(t1 - t0) << " ms (one commit each), reopen+load " << ms(t2 - t1)
                            << " ms, touch all in one transaction " << ms(t3 - t2) << " ms");
  CHECK(loaded == saved);
}

// ---- group commit (the daemon's mode) ----------------------------------------------------

namespace {
std::string tunnel_count(const std::string& db) { return raw_text(db, "SELECT count(*) FROM tunnels"); }
}  // namespace

TEST_CASE("group commit: writes reach the file when the window commits, and on close") {
  TempDir dir;
  {
    // A window far longer than the test: only flush() and closing commit it.
    auto store = Store::open_sqlite(dir.db(), {std::chrono::hours(1)});
    store->save_tunnel(anonymous_v6v4(1));
    CHECK(store->load_tunnels().size() == 1);  // the store itself sees its open window
    CHECK(tunnel_count(dir.db()) == "0");      // another connection does not, yet
    store->flush();
    CHECK(tunnel_count(dir.db()) == "1");
    // Right after a commit, calls commit on their own for up to 2 ms (another process's turn).
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    store->save_tunnel(anonymous_v6v4(2));
    CHECK(tunnel_count(dir.db()) == "1");
  }
  CHECK(tunnel_count(dir.db()) == "2");  // closing the store committed the last window

  // A short window is committed by the store's own thread, with nobody calling flush().
  auto store = Store::open_sqlite(dir.db(), {std::chrono::milliseconds(5)});
  store->save_tunnel(anonymous_v6v4(3));
  std::string seen;
  for (int i = 0; i < 500 && seen != "3"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    seen = tunnel_count(dir.db());
  }
  CHECK(seen == "3");
}

TEST_CASE("group commit: a failed transaction() inside a window undoes only its own writes") {
  TempDir dir;
  auto store = Store::open_sqlite(dir.db(), {std::chrono::hours(1)});
  store->save_tunnel(anonymous_v6v4(1));
  CHECK_THROWS_AS(store->transaction([](Store& s) {
    s.save_tunnel(anonymous_v6v4(2));
    throw std::runtime_error("give up");
  }),
                  std::runtime_error);
  store->transaction([](Store& s) { s.save_tunnel(anonymous_v6v4(3)); });
  store->flush();
  const auto tunnels = store->load_tunnels();
  REQUIRE(tunnels.size() == 2);
  CHECK(tunnels[0].id == 1);
  CHECK(tunnels[1].id == 3);
  CHECK(tunnel_count(dir.db()) == "2");
}

TEST_CASE("group commit: another process still gets the write lock while the daemon writes without pause") {
  TempDir dir;
  auto daemon = Store::open_sqlite(dir.db(), {std::chrono::milliseconds(10)});
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    // Between two store calls the daemon's I/O thread does socket work: a short pause.
    for (uint32_t id = 0; !stop; id = (id + 1) % 100) {
      daemon->touch_tunnel(id, 1700000000 + id);
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  });
  auto admin = Store::open_sqlite(dir.db());  // what tspctl opens: no group commit
  int added = 0;
  for (int i = 0; i < 10; ++i)
    if (admin->add_user(user("user" + std::to_string(i), static_cast<uint8_t>(i)))) ++added;
  stop = true;
  writer.join();
  CHECK(added == 10);
  CHECK(daemon->list_users().size() == 10);
}

TEST_CASE("group commit: a negative window is refused") {
  TempDir dir;
  CHECK_THROWS_WITH(Store::open_sqlite(dir.db(), {std::chrono::milliseconds(-1)}), Catch::Contains("negative"));
}

// ---- background checkpoints (the daemon's mode) --------------------------------------------

TEST_CASE("background checkpoints: the store's own thread checkpoints the WAL, and closing leaves one file") {
  TempDir dir;
  const std::string wal = dir.db() + "-wal";
  {
    auto store = Store::open_sqlite(dir.db(), {std::chrono::milliseconds(2), true});
    // A frame or more per window: past the 1000-frame threshold.
    for (uint32_t i = 0; i < 3000; ++i) {
      store->save_tunnel(anonymous_v6v4(i));
      if (i % 2 == 0) store->flush();
    }
    CheckpointStats stats;
    for (int i = 0; i < 500 && (stats.runs == 0 || stats.writer_runs == 0); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      store->touch_tunnel(1, 1700000000 + i);  // the writer's catch-up comes with a window's commit
      store->flush();
      stats = store->checkpoint_stats();
    }
    CHECK(stats.runs >= 1);
    CHECK(stats.frames_copied >= 1000);  // a run that copies nothing is no checkpoint
    CHECK(stats.writer_runs >= 1);
    CHECK(stats.failures == 0);
    CHECK(stats.last_error.empty());
    CHECK(stats.longest_us > 0);
    CHECK(tunnel_count(dir.db()) == "3000");  // another connection reads it all meanwhile
    CHECK(std::filesystem::exists(wal));
  }
  INFO("the store's connection, the last to close, checkpointed the rest and removed the WAL");
  CHECK_FALSE(std::filesystem::exists(wal));
  auto reopened = Store::open_sqlite(dir.db());
  CHECK(reopened->load_tunnels().size() == 3000);
  CHECK(reopened->checkpoint_stats().runs == 0);  // SQLite's own checkpoints: nothing to report
}

// SQLite starts a WAL over only when a write begins with every frame checkpointed: a
// background run alone never gets there while commits keep coming, and the file would grow
// without end. The writer's catch-up after each run is what lets it start over.
TEST_CASE("background checkpoints: under a writer that never pauses, the WAL starts over") {
  TempDir dir;
  auto store = Store::open_sqlite(dir.db(), {std::chrono::milliseconds(2), true});
  uint32_t writes = 0;
  while (store->checkpoint_stats().wal_restarts < 2) {
    // A changing stamp: a write that changes nothing adds nothing to the WAL.
    store->touch_tunnel(writes % 2000, 1700000000 + writes);
    if (writes < 2000) store->save_tunnel(anonymous_v6v4(writes));
    if (++writes == 5'000'000) FAIL("the WAL was not started over twice in 5M writes");
  }
  const CheckpointStats stats = store->checkpoint_stats();
  CHECK(stats.frames_copied > 0);
  CHECK(stats.writer_runs > 0);
  CHECK(stats.failures == 0);
  store->flush();
  CHECK(tunnel_count(dir.db()) == std::to_string(std::min<uint32_t>(writes, 2000)));
}

TEST_CASE("background checkpoints: refused without group commit; an in-memory store has none") {
  TempDir dir;
  CHECK_THROWS_WITH(Store::open_sqlite(dir.db(), {std::chrono::milliseconds(0), true}),
                    Catch::Contains("background checkpoints need group commit"));
  auto store = Store::open_sqlite(":memory:", {std::chrono::milliseconds(2), true});
  store->save_tunnel(anonymous_v6v4(1));
  CHECK(store->load_tunnels().size() == 1);
  CHECK(store->checkpoint_stats().runs == 0);
}
