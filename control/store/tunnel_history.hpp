// Every tunnel's life, kept after it ends: who had which address and prefix, from which IPv4
// address and port, from when to when, and how it ended (records.hpp). What abuse desks ask
// ("who had 2001:db8:f100:1a::5 at 14:03 UTC?") and what log retention rules require.
//
// Its own SQLite file beside the store's, written by a thread of its own: a session only
// queues an event (a lock and an append), and the thread writes what gathered in one
// transaction every `batch_window`. In the store's database the history's inserts and its
// indexes made each tunnel commit 3-4 times slower (perf/README.md, "store_bench"); here they
// cost the session path nothing and leave the store's WAL alone. The price: a crash loses the
// events of the last window (their tunnels' records stay open, and the next start ends them
// as lost: reconcile()).
//
// Thread-safe: any thread may call any method.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "control/store/records.hpp"

namespace tsp::store {

namespace sqlite {
class Connection;
}

class TunnelHistory {
 public:
  // Opens (creating) the history file (":memory:" for tests); throws StoreError naming it.
  explicit TunnelHistory(const std::string& path,
                         std::chrono::milliseconds batch_window = std::chrono::milliseconds(100));
  ~TunnelHistory();  // writes what is queued
  TunnelHistory(const TunnelHistory&) = delete;
  TunnelHistory& operator=(const TunnelHistory&) = delete;

  // The history file of the store at `store_path`: "broker.db" -> "broker-history.db".
  static std::string path_beside(const std::string& store_path);

  // A tunnel went live: its record starts at t.created_at, ending the record still open in
  // its id (the tunnel it replaced in place) as Replaced then.
  void started(const TunnelRecord& t);
  // A live tunnel ended.
  void ended(uint32_t id, int64_t at, TunnelEnd why);
  // Writes what is queued now. Throws StoreError if that fails (the events are then lost).
  void flush();

  // At start, with the tunnels the store reloaded: records open for any other id end as
  // Lost at `now` (a crash lost those tunnels, or their end); a live tunnel without an open
  // record gets one from its created_at (the first start with a history). Returns how many
  // ended and how many started.
  std::pair<size_t, size_t> reconcile(const std::vector<TunnelRecord>& live, int64_t now);

  // Newest first; what is queued is written first. Throws StoreError without a subject.
  std::vector<TunnelHistoryRecord> find(const HistoryQuery& query);
  // Removes at most `max_rows` of the records that ended before `ended_before`, oldest first.
  size_t prune(int64_t ended_before, size_t max_rows);

  // The writer thread's failures so far, and the last one's message ("" if none).
  uint64_t write_failures() const;
  std::string last_error() const;

 private:
  struct Event {
    bool start = false;
    TunnelRecord tunnel;  // start: the whole record; end: only its id
    int64_t at = 0;
    TunnelEnd why = TunnelEnd::Deleted;
  };
  void queue(Event e);
  void writer_loop();
  void write_locked(const std::vector<Event>& events);  // db_mu_ held
  void write_pending();                                  // takes db_mu_, then the queue

  std::unique_ptr<sqlite::Connection> conn_;
  mutable std::mutex db_mu_;  // conn_; taken before mu_, never after

  const std::chrono::milliseconds window_;
  mutable std::mutex mu_;  // what follows
  std::condition_variable wake_;
  std::vector<Event> queue_;
  bool stopping_ = false;
  uint64_t failures_ = 0;
  std::string last_error_;
  std::thread writer_;  // last: started after everything above
};

}  // namespace tsp::store
