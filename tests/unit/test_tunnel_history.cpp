// The tunnels' history (control/store/tunnel_history.hpp) against a real file: records found
// by address (inside a prefix too), IPv4 source, user and time; replacement, ends, the writer
// thread's batches, the reconciliation at start, pruning, reopening.
#include <sqlite3.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <thread>

#include "control/store/tunnel_history.hpp"
#include "tests/unit/scratch_dir.hpp"
#include "tests/unit/store_test_records.hpp"

using namespace tsp;
using namespace tsp::store;
using namespace tsp::test;

namespace {

// A count read behind the history's back (an admin with the sqlite3 CLI).
int64_t raw_count(const std::string& db, const char* sql) {
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(h, sql, -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  const int64_t n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(h);
  return n;
}

}  // namespace

TEST_CASE("tunnel history: each tunnel's life, found by address, prefix, IPv4 source, user and time") {
  test::ScratchDir dir("tsp-history");
  auto history = std::make_unique<TunnelHistory>(dir.file("broker-history.db"));
  TunnelRecord router = udp_tunnel_with_prefix(7);  // alice, 2001:db8:ffff::2 + 2001:db8:f100::/48
  history->started(router);
  TunnelRecord host = anonymous_v6v4(8);  // 203.0.113.9, 2001:db8:ffff::a
  host.created_at = 1700000150;
  history->started(host);

  auto one = [&](const HistoryQuery& q) {
    const auto h = history->find(q);
    REQUIRE(h.size() == 1);
    return h[0];
  };
  const TunnelHistoryRecord r = one({.ipv6 = v6("2001:db8:f100:42::1")});  // inside the /48
  CHECK(r.tunnel_id == 7);
  CHECK(r.user == "alice");
  CHECK(r.mode == TunnelModeRec::V6UDPV4);
  CHECK(r.client_v4 == v4("198.51.100.7"));
  CHECK(r.client_port == 61234);
  CHECK(r.client_v6 == v6("2001:db8:ffff::2"));
  CHECK(r.prefix == prefix("2001:db8:f100::/48"));
  CHECK(r.transport == "tcp");
  CHECK(r.started_at == 1700000100);
  CHECK_FALSE(r.ended_at);
  CHECK(r.end_reason.empty());
  CHECK(one({.ipv6 = v6("2001:db8:ffff::2")}).tunnel_id == 7);  // its /128
  CHECK(one({.ipv6 = v6("2001:db8:ffff::a")}).anonymous);
  CHECK(one({.ipv4 = v4("203.0.113.9")}).tunnel_id == 8);
  CHECK(history->find({.ipv6 = v6("2001:db8:f101::1")}).empty());  // just outside the /48
  CHECK(history->find({.user = "bob"}).empty());
  CHECK_THROWS_WITH(history->find({}), Catch::Contains("no address or user"));

  // Alice reconnects from another address in the same slot (her tunnel replaced in place),
  // then is kicked; the anonymous host expires.
  TunnelRecord again = router;
  again.client_v4 = v4("198.51.100.8");
  again.created_at = 1700000300;
  history->started(again);
  history->ended(7, 1700000400, TunnelEnd::Kicked);
  history->ended(8, 1700000500, TunnelEnd::Expired);
  history->ended(8, 1700000600, TunnelEnd::Kicked);  // ended already: its record stays as it ended
  const auto alice = history->find({.user = "alice"});
  REQUIRE(alice.size() == 2);  // newest first
  CHECK(alice[0].client_v4 == v4("198.51.100.8"));
  CHECK(alice[0].ended_at == 1700000400);
  CHECK(alice[0].end_reason == "kicked");
  CHECK(alice[1].client_v4 == v4("198.51.100.7"));
  CHECK(alice[1].ended_at == 1700000300);
  CHECK(alice[1].end_reason == "replaced");
  const TunnelHistoryRecord gone = one({.ipv4 = v4("203.0.113.9")});
  CHECK(gone.ended_at == 1700000500);
  CHECK(gone.end_reason == "expired");

  // Who had the /48 at a given time: the first tunnel, the second, nobody.
  CHECK(one({.ipv6 = v6("2001:db8:f100::1"), .at = 1700000200}).client_v4 == v4("198.51.100.7"));
  CHECK(one({.ipv6 = v6("2001:db8:f100::1"), .at = 1700000350}).client_v4 == v4("198.51.100.8"));
  CHECK(history->find({.ipv6 = v6("2001:db8:f100::1"), .at = 1700000401}).empty());
  CHECK(history->find({.ipv6 = v6("2001:db8:f100::1"), .at = 1700000099}).empty());
  CHECK(history->find({.user = "alice", .limit = 1}).size() == 1);

  // Written by the thread within its window, without a flush.
  history->started(udp_tunnel_with_prefix(12));
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  CHECK(raw_count(dir.file("broker-history.db"), "SELECT count(*) FROM tunnel_history WHERE tunnel_id = 12") == 1);
  history->ended(12, 1700000390, TunnelEnd::Deleted);
  history->flush();

  // At start: records open for tunnels the store no longer holds end as lost; live tunnels it
  // has no record of get one.
  history->started(anonymous_v6v4(10));
  TunnelRecord unknown = anonymous_v6v4(13);
  unknown.client_v4 = v4("203.0.113.13");
  unknown.created_at = 1700000650;
  CHECK(history->reconcile({unknown}, 1700000700) == std::pair<size_t, size_t>{1, 1});
  CHECK(history->reconcile({unknown}, 1700000800) == std::pair<size_t, size_t>{0, 0});
  CHECK(history->find({.ipv4 = v4("203.0.113.9")})[0].end_reason == "lost");
  CHECK(history->find({.ipv4 = v4("203.0.113.9")})[0].ended_at == 1700000700);
  CHECK(history->find({.ipv4 = v4("203.0.113.13")})[0].started_at == 1700000650);
  history->ended(13, 1700000810, TunnelEnd::Kicked);

  // Pruning removes what ended before the cut, never a live tunnel's record.
  history->started(udp_tunnel_with_prefix(11));
  history->flush();
  CHECK(history->prune(1700000450, 1) == 1);  // in slices, the oldest first
  CHECK(history->find({.user = "alice"}).size() == 3);
  CHECK(history->prune(1700000450, 100) == 2);  // alice's others that ended by then
  CHECK(history->find({.user = "alice"}).size() == 1);  // the live one (11)
  CHECK(history->prune(INT64_MAX, 100) == 3);  // the anonymous three
  CHECK(history->find({.user = "alice"}).size() == 1);

  // Reopened: everything written is there, the file owner-only.
  history.reset();
  struct stat st {};
  REQUIRE(stat(dir.file("broker-history.db").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  history = std::make_unique<TunnelHistory>(dir.file("broker-history.db"));
  CHECK(history->find({.user = "alice"}).size() == 1);
}

TEST_CASE("tunnel history: its file sits beside the store's") {
  CHECK(TunnelHistory::path_beside("/var/lib/tspbroker/tspbroker.db") == "/var/lib/tspbroker/tspbroker-history.db");
  CHECK(TunnelHistory::path_beside("broker") == "broker-history");
  CHECK(TunnelHistory::path_beside("/srv/a.b/broker") == "/srv/a.b/broker-history");
  CHECK(TunnelHistory::path_beside(":memory:") == ":memory:");
}
