#include "control/store/wal_checkpointer.hpp"

#include <sqlite3.h>

#include <chrono>

namespace tsp::store::sqlite {

namespace {
// A connection knows the file's journal mode only once it has read it: until then a
// checkpoint on it does nothing (and says so only through its -1 frame counts).
void require_wal(Connection& conn, const std::string& path) {
  Query q(conn, "journal_mode", "PRAGMA journal_mode");
  if (!q.step() || q.column_text(0) != "wal")
    throw StoreError("store: open '" + path + "': background checkpoints need a file in WAL mode");
}
}  // namespace

WalCheckpointer::WalCheckpointer(const std::string& path, int threshold_frames)
    : conn_(path), threshold_frames_(threshold_frames) {
  require_wal(conn_, path);
  thread_ = std::thread([this] { run(); });
}

WalCheckpointer::~WalCheckpointer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void WalCheckpointer::attach(Connection& writer) { sqlite3_wal_hook(writer.handle(), &on_commit, this); }

void WalCheckpointer::detach(Connection& writer) {
  sqlite3_wal_autocheckpoint(writer.handle(), kDefaultThresholdFrames);  // replaces our hook
}

// On the committing thread, after each commit, with the store's mutex held: only a flag.
int WalCheckpointer::on_commit(void* self, sqlite3*, const char*, int frames) {
  auto* me = static_cast<WalCheckpointer*>(self);
  // Fewer frames than after the last commit: SQLite started the WAL over.
  if (frames < me->last_frames_.exchange(frames, std::memory_order_relaxed))
    me->restarts_.fetch_add(1, std::memory_order_relaxed);
  if (frames < me->threshold_frames_) return SQLITE_OK;
  {
    std::lock_guard lock(me->mu_);
    if (me->due_) return SQLITE_OK;
    me->due_ = true;
  }
  me->wake_.notify_one();
  return SQLITE_OK;
}

void WalCheckpointer::run() {
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait(lock, [this] { return due_ || stopping_; });
    if (stopping_) return;
    due_ = false;  // commits from here on may ask for the next run
    lock.unlock();
    const auto began = std::chrono::steady_clock::now();
    int wal_frames = 0, copied = 0;
    const int rc = sqlite3_wal_checkpoint_v2(conn_.handle(), "main", SQLITE_CHECKPOINT_PASSIVE, &wal_frames, &copied);
    const auto took = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - began);
    lock.lock();
    ++stats_.runs;
    if (took.count() > stats_.longest_us) stats_.longest_us = took.count();
    if (copied > 0) stats_.frames_copied += static_cast<uint64_t>(copied);
    if ((rc & 0xFF) == SQLITE_BUSY) {
      ++stats_.busy;  // the writer's catch-up holds the checkpoint: the next commit asks again
    } else if (rc != SQLITE_OK) {
      ++stats_.failures;
      stats_.last_error = sqlite3_errmsg(conn_.handle());
    } else {
      tail_due_ = true;
    }
  }
}

void WalCheckpointer::finish_on_writer(Connection& writer) noexcept {
  if (!tail_due_) return;
  const auto began = std::chrono::steady_clock::now();
  int wal_frames = 0, copied = 0;
  const int rc = sqlite3_wal_checkpoint_v2(writer.handle(), "main", SQLITE_CHECKPOINT_PASSIVE, &wal_frames, &copied);
  const auto took = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - began);
  // Busy: a background run is under way; the next commit tries again.
  if (rc == SQLITE_OK && copied == wal_frames) tail_due_ = false;
  std::lock_guard lock(mu_);
  ++stats_.writer_runs;
  if (took.count() > stats_.longest_writer_us) stats_.longest_writer_us = took.count();
}

CheckpointStats WalCheckpointer::stats() const {
  std::lock_guard lock(mu_);
  CheckpointStats out = stats_;
  out.wal_restarts = restarts_.load(std::memory_order_relaxed);
  return out;
}

}  // namespace tsp::store::sqlite
