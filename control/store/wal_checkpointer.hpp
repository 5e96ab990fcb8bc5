// Checkpoints a WAL-mode SQLite file from a thread and a connection of its own.
//
// Why: SQLite's automatic checkpoint runs inside the COMMIT that takes the WAL past its
// threshold (1000 pages), fsyncs included, on the committing connection. In the daemon that
// is the group-commit thread holding the store's mutex, so every session that needed the
// store meanwhile waited for the disk (2-9 ms here; far longer on a busy disk). Attached, the
// store's connection only reports how far its WAL has grown (sqlite3_wal_hook, which also
// turns its automatic checkpoint off), and this thread runs a PASSIVE checkpoint: it copies
// committed pages back and syncs while the writer goes on appending. The writer then copies
// only what it committed meanwhile (finish_on_writer), which lets SQLite start the WAL over.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "control/store/sqlite_db.hpp"
#include "control/store/store.hpp"

namespace tsp::store::sqlite {

class WalCheckpointer {
 public:
  // Opens its own connection to `path` (the store's file, already in WAL mode) and starts
  // the thread. A checkpoint runs once the WAL holds `threshold_frames` pages.
  explicit WalCheckpointer(const std::string& path, int threshold_frames = kDefaultThresholdFrames);
  // Stops the thread; the WAL's remainder is the store connection's to checkpoint when it
  // closes (the last connection to a file does that).
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // The writer's commits report their WAL's size here from now on; detach() restores its
  // automatic checkpoint. Call both with the writer's connection not in use elsewhere.
  void attach(Connection& writer);
  static void detach(Connection& writer);

  // The writer's share, right after one of its commits, with no transaction open: once a
  // background run has copied the bulk, the few pages committed since are copied here, so
  // that the WAL is wholly checkpointed when the next write begins and SQLite starts it over
  // from its beginning. SQLite does that only then: under a steady stream of commits a
  // background run never catches up alone, and the WAL would grow without end.
  void finish_on_writer(Connection& writer) noexcept;

  CheckpointStats stats() const;

  static constexpr int kDefaultThresholdFrames = 1000;  // SQLite's own default

 private:
  static int on_commit(void* self, sqlite3* db, const char* schema, int frames);
  void run();

  Connection conn_;
  const int threshold_frames_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool due_ = false;  // a commit took the WAL past the threshold since the last run began
  bool stopping_ = false;
  std::atomic<bool> tail_due_{false};  // a background run ended: finish_on_writer has work
  std::atomic<int> last_frames_{0};     // the WAL's frames after the last commit
  std::atomic<uint64_t> restarts_{0};
  CheckpointStats stats_;
  std::thread thread_;  // started once the connection reads the file; joined before anything goes
};

}  // namespace tsp::store::sqlite
