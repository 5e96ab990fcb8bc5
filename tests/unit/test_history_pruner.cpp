// The daemon's pruning of tunnel history (control/daemon/history_pruner.hpp), against a real
// history file: records that ended longer ago than the retention go, in slices, at start;
// live tunnels' records and recent ones stay; 0 keeps everything.
#include <catch2/catch.hpp>
#include <algorithm>
#include <chrono>

#include "control/daemon/history_pruner.hpp"
#include "control/store/tunnel_history.hpp"
#include "tests/unit/scratch_dir.hpp"

namespace tsp::daemon {
namespace {

using namespace std::chrono_literals;

store::TunnelRecord tunnel(uint32_t id, int64_t created_at) {
  store::TunnelRecord t;
  t.id = id;
  t.anonymous = true;
  t.client_v4 = Ipv4Addr{0xC6336400 + (id & 0xFF)};
  t.client_v6 = *Ipv6Addr::parse("2001:db8:ffff::a");
  t.client_v6.bytes[13] = static_cast<uint8_t>(id >> 16);
  t.client_v6.bytes[14] = static_cast<uint8_t>(id >> 8);
  t.client_v6.bytes[15] = static_cast<uint8_t>(id);
  t.server_v4 = Ipv4Addr{0xC0000201};
  t.server_v6 = *Ipv6Addr::parse("2001:db8:ffff::1");
  t.endpoint_pool = "endpoints";
  t.transport = "udp";
  t.created_at = created_at;
  t.last_seen = created_at;
  return t;
}

}  // namespace

TEST_CASE("history pruner: old records go in slices at start, recent and live ones stay", "[daemon][history]") {
  test::ScratchDir dir("tsp-history-pruner");
  auto history = std::make_unique<store::TunnelHistory>(dir.file("broker-history.db"));
  const int64_t now = unix_now();
  const int64_t day = 86400;
  // 12,000 tunnels that ended 40 days ago (more than two slices), 10 that ended 10 days ago,
  // and 1 live one that started 100 days ago.
  for (uint32_t id = 0; id < 12000; ++id) {
    history->started(tunnel(id, now - 41 * day));
    history->ended(id, now - 40 * day, store::TunnelEnd::Expired);
  }
  for (uint32_t id = 20000; id < 20010; ++id) {
    history->started(tunnel(id, now - 11 * day));
    history->ended(id, now - 10 * day, store::TunnelEnd::Kicked);
  }
  history->started(tunnel(30000, now - 100 * day));
  history->flush();
  REQUIRE(history->find({.ipv4 = tunnel(0, 0).client_v4, .limit = 1000000}).size() > 40);

  uint32_t keep = 30;
  boost::asio::io_context io;
  HistoryPruner pruner(io, *history, [&] { return keep; });
  pruner.start();
  // Three slices (5000, 5000, 2000), each its own turn of the loop; then the hourly wait.
  for (int turn = 0; turn < 10; ++turn) io.run_for(20ms);
  pruner.stop();
  io.run_for(10ms);

  // By IPv4 source: the old ones are all gone; the recent and the live ones stay.
  size_t old_left = 0, recent = 0;
  for (uint32_t id = 0; id < 256; ++id) {
    for (const auto& r : history->find({.ipv4 = tunnel(id, 0).client_v4, .limit = 1000000})) {
      if (!r.ended_at) continue;
      if (*r.ended_at == now - 40 * day) ++old_left;
      else ++recent;
    }
  }
  CHECK(old_left == 0);
  CHECK(recent == 10);
  const auto live = history->find({.ipv4 = tunnel(30000, 0).client_v4, .limit = 1000000});
  CHECK(std::count_if(live.begin(), live.end(), [](const auto& r) { return !r.ended_at; }) == 1);
}

TEST_CASE("history pruner: 0 keeps everything", "[daemon][history]") {
  test::ScratchDir dir("tsp-history-pruner");
  auto history = std::make_unique<store::TunnelHistory>(dir.file("broker-history.db"));
  const int64_t now = unix_now();
  history->started(tunnel(1, now - 5000 * 86400));
  history->ended(1, now - 4000 * 86400, store::TunnelEnd::Deleted);
  boost::asio::io_context io;
  HistoryPruner pruner(io, *history, [] { return uint32_t{0}; });
  pruner.start();
  io.run_for(50ms);
  pruner.stop();
  io.run_for(10ms);
  CHECK(history->find({.ipv4 = tunnel(1, 0).client_v4}).size() == 1);
}

}  // namespace tsp::daemon
