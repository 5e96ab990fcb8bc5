// The broker's persistent state: users, stable allocations, live tunnels, quarantine.
// An interface so that a PostgreSQL store (several brokers) can sit beside the SQLite one.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "control/store/records.hpp"

namespace tsp::store {

// Every storage failure: the message names the operation and carries the database's own text.
class StoreError : public std::runtime_error {
  using runtime_error::runtime_error;
};

// Group commit, for the daemon: with a window above zero, every call joins one open write
// transaction, and a background thread commits it at most `window` after it began (also
// flush() and closing the store commit it). One commit then carries every tunnel accepted in
// the window instead of one commit (and file locks and a WAL append) per call. The price:
// a process crash loses what the last window wrote (tunnels whose accept was already
// answered; their clients reconnect when keepalives fail), and other processes (tspctl) see
// writes up to one window late and wait up to one window for the write lock (after each
// commit the store leaves the lock free for up to 2 ms, calls committing on their own).
// Zero (the default, for tools and tests): every call commits on its own.
//
// checkpoint_in_background: a file's WAL is checkpointed by a thread and connection of the
// store's own (wal_checkpointer.hpp) instead of inside the commit that fills it, where the
// disk's syncs held the store's lock; what tspbrokerd does. Off: SQLite's own checkpoints.
// Needs group commit: the window's commit finishes each background run (wal_checkpointer.hpp).
struct StoreOptions {
  std::chrono::milliseconds group_commit_window{0};
  bool checkpoint_in_background = false;
};

// The background checkpoints so far (all zero when they run inline, in SQLite's commits).
struct CheckpointStats {
  uint64_t runs = 0;
  uint64_t busy = 0;      // of the runs: the writer's catch-up was checkpointing (no error)
  uint64_t failures = 0;  // of the runs: SQLite's error (last_error)
  uint64_t frames_copied = 0;  // WAL pages written back to the database, summed over the runs
  int64_t longest_us = 0;  // the slowest one: the wait that writers no longer have
  uint64_t writer_runs = 0;       // the writer's short catch-ups after a background run
  int64_t longest_writer_us = 0;  // the slowest of those: what a writer still waits
  uint64_t wal_restarts = 0;      // times the WAL was started over: it does not grow without end
  std::string last_error;  // of the last failed run, "" if none failed
};

// What tspbrokerd uses: 10 ms bounds the loss on a crash to about a hundred tunnels at
// 10,000 sessions/s, while one commit per window costs next to nothing.
inline constexpr std::chrono::milliseconds kDaemonGroupCommitWindow{10};

// Thread-safe: any control-plane thread may call any method. While one thread runs
// transaction(), other threads' calls wait until it commits or rolls back.
class Store {
 public:
  virtual ~Store() = default;

  // Creates the file and schema if missing, migrates an older schema. Throws StoreError
  // naming the path and the SQLite message. The file is created owner-only (0600): the
  // DIGEST-MD5 hash is password-equivalent.
  static std::unique_ptr<Store> open_sqlite(const std::string& path, const StoreOptions& options = {});

  // Commits what group commit holds now (nothing to do without group commit). Throws
  // StoreError if the commit fails; what the window held is then lost.
  virtual void flush() = 0;

  // Users. Names must be non-empty (the empty name means "anonymous" in tunnels).
  virtual bool add_user(const UserRecord& user) = 0;  // false if the name exists
  virtual bool update_credentials(const std::string& name, const StoredCredentials& creds) = 0;  // false if no such user
  virtual bool delete_user(const std::string& name) = 0;  // also deletes their allocations; false if none
  virtual std::optional<UserRecord> find_user(const std::string& name) = 0;
  virtual std::vector<UserRecord> list_users() = 0;  // ordered by name

  // Stable allocations of registered users, one per (user, pool). save_allocation upserts;
  // it throws StoreError if the user does not exist or the block belongs to another user.
  virtual std::optional<Ipv6Prefix> find_allocation(const std::string& user, const std::string& pool) = 0;
  virtual void save_allocation(const std::string& user, const std::string& pool, const Ipv6Prefix& block) = 0;
  virtual std::vector<AllocationRecord> load_allocations() = 0;  // ordered by user, pool

  // Live tunnels. save_tunnel inserts or replaces by id; touch_tunnel ignores unknown ids.
  virtual void save_tunnel(const TunnelRecord& tunnel) = 0;
  virtual bool delete_tunnel(uint32_t id) = 0;
  virtual std::vector<TunnelRecord> load_tunnels() = 0;  // ordered by id
  virtual void touch_tunnel(uint32_t id, int64_t last_seen) = 0;

  // Quarantine of released anonymous blocks, one entry per (pool, block); saving again
  // replaces `until`.
  virtual void save_quarantine(const QuarantineRecord& entry) = 0;
  virtual void delete_quarantine(const std::string& pool, const Ipv6Prefix& block) = 0;
  virtual std::vector<QuarantineRecord> load_quarantine() = 0;  // ordered by until

  // The broker's named secrets (the file is owner-only). save_secret keeps the first value
  // saved under a name and returns the value stored, so two processes racing agree.
  virtual std::optional<std::vector<uint8_t>> find_secret(const std::string& name) = 0;
  virtual std::vector<uint8_t> save_secret(const std::string& name, std::span<const uint8_t> value) = 0;

  // Password-guessing state, saved when the daemon stops and read when it starts. Saving
  // replaces everything saved before; loading keeps the order saved.
  virtual void save_lockouts(const LockoutRecords& records) = 0;
  virtual LockoutRecords load_lockouts() = 0;

  // Runs `body` as one unit of work: committed if it returns, rolled back if it throws (the
  // exception is rethrown). Calls may nest: an inner transaction that throws undoes only
  // its own changes. `body` must use the Store it is given on the calling thread only.
  // Under group commit "committed" means: part of the window's commit.
  virtual void transaction(const std::function<void(Store&)>& body) = 0;

  virtual CheckpointStats checkpoint_stats() = 0;
};

}  // namespace tsp::store
