// The Store on SQLite: one connection, one mutex, statements prepared once and reused, and
// optionally group commit (store.hpp) with a background thread that closes each window.
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "control/store/row_codec.hpp"
#include "control/store/schema.hpp"
#include "control/store/sqlite_db.hpp"
#include "control/store/store.hpp"
#include "control/store/wal_checkpointer.hpp"

namespace tsp::store {
namespace {

using sqlite::Connection;
using sqlite::Query;
using sqlite::RowReader;

// ---- users ----
constexpr std::string_view kInsertUser =
    "INSERT INTO users (name, enabled, created_at, realm, digest_md5_urp, scram_salt,"
    " scram_iterations, scram_stored_key, scram_server_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (name) DO NOTHING";
constexpr std::string_view kUpdateCredentials =
    "UPDATE users SET realm = ?, digest_md5_urp = ?, scram_salt = ?, scram_iterations = ?,"
    " scram_stored_key = ?, scram_server_key = ? WHERE name = ?";
constexpr std::string_view kDeleteUser = "DELETE FROM users WHERE name = ?";
constexpr std::string_view kFindUser =
    "SELECT name, enabled, created_at, realm, digest_md5_urp, scram_salt, scram_iterations,"
    " scram_stored_key, scram_server_key FROM users WHERE name = ?";
constexpr std::string_view kListUsers =
    "SELECT name, enabled, created_at, realm, digest_md5_urp, scram_salt, scram_iterations,"
    " scram_stored_key, scram_server_key FROM users ORDER BY name";

// ---- allocations ----
constexpr std::string_view kFindAllocation = "SELECT block FROM allocations WHERE user = ? AND pool = ?";
constexpr std::string_view kSaveAllocation =
    "INSERT INTO allocations (user, pool, block) VALUES (?, ?, ?)"
    " ON CONFLICT (user, pool) DO UPDATE SET block = excluded.block";
constexpr std::string_view kLoadAllocations =
    "SELECT user, pool, block FROM allocations ORDER BY user, pool";

// ---- tunnels ----
// An upsert on id rather than INSERT OR REPLACE: REPLACE would silently delete any other
// row that a future unique key collides with.
constexpr std::string_view kSaveTunnel =
    "INSERT INTO tunnels (id, user, anonymous, mode, client_v4, client_port, server_v4,"
    " server_port, client_v6, server_v6, endpoint_pool, prefix, prefix_pool, keepalive_interval,"
    " mtu, dns_names, transport, created_at, last_seen)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (id) DO UPDATE SET user = excluded.user, anonymous = excluded.anonymous,"
    " mode = excluded.mode, client_v4 = excluded.client_v4, client_port = excluded.client_port,"
    " server_v4 = excluded.server_v4, server_port = excluded.server_port,"
    " client_v6 = excluded.client_v6, server_v6 = excluded.server_v6,"
    " endpoint_pool = excluded.endpoint_pool, prefix = excluded.prefix,"
    " prefix_pool = excluded.prefix_pool, keepalive_interval = excluded.keepalive_interval,"
    " mtu = excluded.mtu, dns_names = excluded.dns_names, transport = excluded.transport,"
    " created_at = excluded.created_at, last_seen = excluded.last_seen";
constexpr std::string_view kDeleteTunnel = "DELETE FROM tunnels WHERE id = ?";
constexpr std::string_view kLoadTunnels =
    "SELECT id, user, anonymous, mode, client_v4, client_port, server_v4, server_port,"
    " client_v6, server_v6, endpoint_pool, prefix, prefix_pool, keepalive_interval, mtu,"
    " dns_names, transport, created_at, last_seen FROM tunnels ORDER BY id";
constexpr std::string_view kTouchTunnel = "UPDATE tunnels SET last_seen = ? WHERE id = ?";

// ---- quarantine ----
constexpr std::string_view kSaveQuarantine =
    "INSERT INTO quarantine (pool, block, until) VALUES (?, ?, ?)"
    " ON CONFLICT (pool, block) DO UPDATE SET until = excluded.until";
constexpr std::string_view kDeleteQuarantine = "DELETE FROM quarantine WHERE pool = ? AND block = ?";
constexpr std::string_view kLoadQuarantine =
    "SELECT pool, block, until FROM quarantine ORDER BY until, pool, block";

// ---- secrets ----
constexpr std::string_view kFindSecret = "SELECT value FROM secrets WHERE name = ?";
constexpr std::string_view kSaveSecret = "INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING";

// ---- lockouts ----
constexpr std::string_view kClearSourceLockouts = "DELETE FROM lockout_sources";
constexpr std::string_view kClearUserLockouts = "DELETE FROM lockout_users";
constexpr std::string_view kSaveSourceLockout =
    "INSERT INTO lockout_sources (address, window_start, failures, locked_until) VALUES (?, ?, ?, ?)";
constexpr std::string_view kSaveUserLockout =
    "INSERT INTO lockout_users (name, window_start, failures, locked_until, trusted) VALUES (?, ?, ?, ?, ?)";
constexpr std::string_view kLoadSourceLockouts =
    "SELECT address, window_start, failures, locked_until FROM lockout_sources ORDER BY seq";
constexpr std::string_view kLoadUserLockouts =
    "SELECT name, window_start, failures, locked_until, trusted FROM lockout_users ORDER BY seq";

std::string join_addresses(const std::vector<Ipv4Addr>& addresses) {
  std::string out;
  for (const Ipv4Addr& a : addresses) {
    if (!out.empty()) out += ' ';
    out += a.to_string();
  }
  return out;
}

// ---- transactions ----
// IMMEDIATE takes the write lock up front: a deferred transaction that later needs to
// write can fail with SQLITE_BUSY that busy_timeout cannot resolve.
constexpr std::string_view kBegin = "BEGIN IMMEDIATE";
constexpr std::string_view kCommit = "COMMIT";
constexpr std::string_view kSavepoint = "SAVEPOINT tsp_nested";
constexpr std::string_view kRelease = "RELEASE tsp_nested";

void bind_credentials(Query& q, const StoredCredentials& c) {
  q.bind(c.realm)
      .bind_blob(c.digest_md5_urp)
      .bind_blob(c.scram_salt)
      .bind(int64_t{c.scram_iterations})
      .bind_blob(c.scram_stored_key)
      .bind_blob(c.scram_server_key);
}

UserRecord read_user(const Query& q) {
  RowReader r(q);
  UserRecord u;
  u.name = r.text();
  r.name_row("user '" + u.name + "'");
  u.enabled = r.flag("enabled");
  u.created_at = r.integer();
  u.credentials.realm = r.text();
  u.credentials.digest_md5_urp = r.fixed_blob<16>("digest_md5_urp");
  u.credentials.scram_salt = r.blob();
  u.credentials.scram_iterations = r.unsigned_int<uint32_t>("scram_iterations");
  u.credentials.scram_stored_key = r.fixed_blob<32>("scram_stored_key");
  u.credentials.scram_server_key = r.fixed_blob<32>("scram_server_key");
  return u;
}

TunnelRecord read_tunnel(const Query& q) {
  RowReader r(q);
  TunnelRecord t;
  t.id = r.unsigned_int<uint32_t>("id");
  r.name_row("tunnel " + std::to_string(t.id));
  t.user = r.text();
  t.anonymous = r.flag("anonymous");
  t.mode = r.mode("mode");
  t.client_v4 = r.ipv4("client_v4");
  t.client_port = r.unsigned_int<uint16_t>("client_port");
  t.server_v4 = r.ipv4("server_v4");
  t.server_port = r.unsigned_int<uint16_t>("server_port");
  t.client_v6 = r.ipv6("client_v6");
  t.server_v6 = r.ipv6("server_v6");
  t.endpoint_pool = r.text();
  t.prefix = r.optional_prefix("prefix");
  t.prefix_pool = r.text();
  t.keepalive_interval = r.unsigned_int<uint32_t>("keepalive_interval");
  t.mtu = r.unsigned_int<uint16_t>("mtu");
  t.dns_names = r.text();
  t.transport = r.text();
  t.created_at = r.integer();
  t.last_seen = r.integer();
  return t;
}

class SqliteStore final : public Store {
 public:
  SqliteStore(const std::string& path, const StoreOptions& options)
      : conn_(path), window_(options.group_commit_window) {
    try {
      sqlite::prepare_schema(conn_);
    } catch (const StoreError& e) {
      std::string_view inner = e.what();
      if (inner.starts_with("store: ")) inner.remove_prefix(7);
      throw StoreError("store: open '" + path + "': " + std::string(inner));
    }
    // A database in memory has no WAL (nor a file for a second connection).
    const char* file = sqlite3_db_filename(conn_.handle(), "main");
    if (options.checkpoint_in_background && file != nullptr && *file != '\0') {
      checkpointer_ = std::make_unique<sqlite::WalCheckpointer>(file);
      checkpointer_->attach(conn_);
    }
    if (window_.count() > 0) flusher_ = std::thread([this] { flush_loop(); });
  }

  ~SqliteStore() override {
    if (flusher_.joinable()) {
      {
        std::lock_guard lock(mutex_);
        stopping_ = true;
      }
      wake_flusher_.notify_all();
      flusher_.join();
    }
    std::lock_guard lock(mutex_);
    commit_window_locked();  // a clean shutdown keeps everything; an error here has no caller left
    if (checkpointer_) {
      // Its connection closes first: conn_, the last one, then checkpoints what is left.
      sqlite::WalCheckpointer::detach(conn_);
      checkpointer_.reset();
    }
  }

  CheckpointStats checkpoint_stats() override { return checkpointer_ ? checkpointer_->stats() : CheckpointStats{}; }

  void flush() override {
    const auto lock = enter(Access::Flush);
    commit_window_locked();
    throw_window_error_locked();
  }

  bool add_user(const UserRecord& user) override {
    const auto lock = enter(Access::Write);
    Query q(conn_, "add_user", kInsertUser);
    if (user.name.empty()) q.fail("empty user name");
    q.bind(user.name).bind(int64_t{user.enabled}).bind(user.created_at);
    bind_credentials(q, user.credentials);
    q.run();
    return conn_.changes() > 0;
  }

  bool update_credentials(const std::string& name, const StoredCredentials& creds) override {
    const auto lock = enter(Access::Write);
    Query q(conn_, "update_credentials", kUpdateCredentials);
    bind_credentials(q, creds);
    q.bind(name).run();
    return conn_.changes() > 0;
  }

  bool delete_user(const std::string& name) override {
    const auto lock = enter(Access::Write);
    Query q(conn_, "delete_user", kDeleteUser);
    q.bind(name).run();  // allocations follow through ON DELETE CASCADE
    return conn_.changes() > 0;
  }

  std::optional<UserRecord> find_user(const std::string& name) override {
    const auto lock = enter(Access::Read);
    Query q(conn_, "find_user", kFindUser);
    q.bind(name);
    if (!q.step()) return std::nullopt;
    return read_user(q);
  }

  std::vector<UserRecord> list_users() override {
    const auto lock = enter(Access::Read);
    Query q(conn_, "list_users", kListUsers);
    std::vector<UserRecord> users;
    while (q.step()) users.push_back(read_user(q));
    return users;
  }

  std::optional<Ipv6Prefix> find_allocation(const std::string& user, const std::string& pool) override {
    const auto lock = enter(Access::Read);
    Query q(conn_, "find_allocation", kFindAllocation);
    q.bind(user).bind(pool);
    if (!q.step()) return std::nullopt;
    RowReader r(q);
    r.name_row("allocation of '" + user + "' in '" + pool + "'");
    return r.prefix("block");
  }

  void save_allocation(const std::string& user, const std::string& pool, const Ipv6Prefix& block) override {
    const auto lock = enter(Access::Write);
    Query q(conn_, "save_allocation", kSaveAllocation);
    q.bind(user).bind(pool).bind(block.to_string());
    try {
      q.run();
    } catch (const StoreError& e) {
      // Unknown user (foreign key) or a block owned by someone else (unique): say which.
      throw StoreError(std::string(e.what()) + " (user '" + user + "', pool '" + pool + "', block " +
                       block.to_string() + ")");
    }
  }

  std::vector<AllocationRecord> load_allocations() override {
    const auto lock = enter(Access::Read);
    Query q(conn_, "load_allocations", kLoadAllocations);
    std::vector<AllocationRecord> out;
    while (q.step()) {
      RowReader r(q);
      AllocationRecord a;
      a.user = r.text();
      a.pool = r.text();
      r.name_row("allocation of '" + a.user + "' in '" + a.pool + "'");
      a.block = r.prefix("block");
      out.push_back(std::move(a));
    }
    return out;
  }

  void save_tunnel(const TunnelRecord& t) override {
    const auto lock = enter(Access::Write);
    Query q(conn_, "save_tunnel", kSaveTunnel);
    const std::string_view mode = sqlite::mode_text(t.mode);
    if (mode.empty()) q.fail("unknown tunnel mode " + std::to_string(static_cast<int>(t.mode)));
    q.bind(int64_t{t.id}).bind(t.user).bind(int64_t{t.anonymous}).bind(mode);
    q.bind(t.client_v4.to_string()).bind(int64_t{t.client_port});
    q.bind(t.server_v4.to_string()).bind(int64_t{t.server_port});
    q.bind(t.client_v6.to_string()).bind(t.server_v6.to_string()).bind(t.endpoint_pool);
    if (t.prefix) {
      q.bind(t.prefix->to_string());
    } else {
      q.bind_null();
    }
    q.bind(t.prefix_pool).bind(int64_t{t.keepalive_interval}).bind(int64_t{t.mtu});
    q.bind(t.dns_names).bind(t.transport).bind(t.created_at).bind(t.last_seen);
    q.run();
  }

  bool delete_tunnel(uint32_t id) override {
    const auto lock = enter(Access::Write);
    Query q(conn_, "delete_tunnel", kDeleteTunnel);
    q.bind(int64_t{id}).run();
    return conn_.changes() > 0;
  }

  std::vector<TunnelRecord> load_tunnels() override {
    const auto lock = enter(Access::Read);
    Query q(conn_, "load_tunnels", kLoadTunnels);
    std::vector<TunnelRecord> out;
    while (q.step()) out.push_back(read_tunnel(q));
    return out;
  }

  void touch_tunnel(uint32_t id, int64_t last_seen) override {
    const auto lock = enter(Access::Write);
    Query q(conn_, "touch_tunnel", kTouchTunnel);
    q.bind(last_seen).bind(int64_t{id}).run();
  }

  void save_quarantine(const QuarantineRecord& e) override {
    const auto lock = enter(Access::Write);
    Query q(conn_, "save_quarantine", kSaveQuarantine);
    q.bind(e.pool).bind(e.block.to_string()).bind(e.until).run();
  }

  void delete_quarantine(const std::string& pool, const Ipv6Prefix& block) override {
    const auto lock = enter(Access::Write);
    Query q(conn_, "delete_quarantine", kDeleteQuarantine);
    q.bind(pool).bind(block.to_string()).run();
  }

  std::vector<QuarantineRecord> load_quarantine() override {
    const auto lock = enter(Access::Read);
    Query q(conn_, "load_quarantine", kLoadQuarantine);
    std::vector<QuarantineRecord> out;
    while (q.step()) {
      RowReader r(q);
      QuarantineRecord e;
      e.pool = r.text();
      r.name_row("quarantine in '" + e.pool + "'");
      e.block = r.prefix("block");
      e.until = r.integer();
      out.push_back(std::move(e));
    }
    return out;
  }

  // The mutex is held for the whole body, so no other thread's call lands inside this
  // unit of work; it is recursive so that the body can call the store. Inner calls use
  // savepoints, which SQLite nests.
  // Under group commit the window's transaction is the outer one, so a transaction() inside
  // it is a savepoint: its rollback still undoes exactly its own changes.
  std::optional<std::vector<uint8_t>> find_secret(const std::string& name) override {
    const auto lock = enter(Access::Read);
    Query q(conn_, "find_secret", kFindSecret);
    q.bind(name);
    if (!q.step()) return std::nullopt;
    const auto value = q.column_blob(0);
    return std::vector<uint8_t>(value.begin(), value.end());
  }
  std::vector<uint8_t> save_secret(const std::string& name, std::span<const uint8_t> value) override {
    std::optional<std::vector<uint8_t>> stored;
    transaction([&](Store&) {
      Query(conn_, "save_secret", kSaveSecret).bind(name).bind_blob(value).run();
      stored = find_secret(name);
    });
    if (!stored) throw StoreError("store: save_secret: '" + name + "' not found after saving it");
    return *stored;
  }

  void save_lockouts(const LockoutRecords& records) override {
    transaction([&](Store&) {
      Query(conn_, "save_lockouts", kClearSourceLockouts).run();
      Query(conn_, "save_lockouts", kClearUserLockouts).run();
      for (const auto& s : records.sources) {
        Query(conn_, "save_lockouts", kSaveSourceLockout)
            .bind(s.address.to_string())
            .bind(s.window_start)
            .bind(int64_t{s.failures})
            .bind(s.locked_until)
            .run();
      }
      for (const auto& u : records.users) {
        Query(conn_, "save_lockouts", kSaveUserLockout)
            .bind(u.name)
            .bind(u.window_start)
            .bind(int64_t{u.failures})
            .bind(u.locked_until)
            .bind(join_addresses(u.trusted_sources))
            .run();
      }
    });
  }
  LockoutRecords load_lockouts() override {
    const auto lock = enter(Access::Read);
    LockoutRecords out;
    Query sources(conn_, "load_lockouts", kLoadSourceLockouts);
    while (sources.step()) {
      RowReader r(sources);
      SourceLockoutRecord s;
      s.address = r.ipv4("address");
      r.name_row("lockout of " + s.address.to_string());
      s.window_start = r.integer();
      s.failures = r.unsigned_int<uint32_t>("failures");
      s.locked_until = r.integer();
      out.sources.push_back(s);
    }
    Query users(conn_, "load_lockouts", kLoadUserLockouts);
    while (users.step()) {
      RowReader r(users);
      UserLockoutRecord u;
      u.name = r.text();
      r.name_row("lockout of user '" + u.name + "'");
      u.window_start = r.integer();
      u.failures = r.unsigned_int<uint32_t>("failures");
      u.locked_until = r.integer();
      u.trusted_sources = r.ipv4_list("trusted");
      out.users.push_back(std::move(u));
    }
    return out;
  }

  void transaction(const std::function<void(Store&)>& body) override {
    const auto lock = enter(Access::Write);
    const bool outermost = depth_ == 0 && !window_open_;
    Query(conn_, "transaction", outermost ? kBegin : kSavepoint).run();
    ++depth_;
    try {
      body(*this);
    } catch (...) {
      --depth_;
      conn_.rollback_quietly(outermost ? "ROLLBACK" : "ROLLBACK TO tsp_nested; RELEASE tsp_nested");
      if (!conn_.in_transaction()) window_open_ = false;
      throw;
    }
    --depth_;
    // An I/O or memory error can make SQLite roll the whole transaction back by itself.
    if (!conn_.in_transaction()) {
      window_open_ = false;
      throw StoreError("store: transaction: rolled back by SQLite after an earlier error");
    }
    try {
      Query(conn_, "transaction", outermost ? kCommit : kRelease).run();
    } catch (...) {
      // A failed COMMIT leaves the transaction open: close it so the connection stays usable.
      if (outermost) conn_.rollback_quietly("ROLLBACK");
      throw;
    }
  }

 private:
  using Clock = std::chrono::steady_clock;
  enum class Access { Read, Write, Flush };

  // Locks the store for one call. Under group commit it first opens the window's
  // transaction, and a write reports (once) a window that failed to commit, so that the
  // caller, which handles write failures, learns that recent writes were lost.
  std::unique_lock<std::recursive_mutex> enter(Access access) {
    std::unique_lock lock(mutex_);
    if (window_.count() == 0 || depth_ > 0 || access == Access::Flush) return lock;
    if (access == Access::Write) throw_window_error_locked();
    if (window_open_ && !conn_.in_transaction()) window_open_ = false;  // SQLite rolled it back
    if (!window_open_ && Clock::now() >= no_window_before_) {
      Query(conn_, "group commit", kBegin).run();
      window_open_ = true;
      window_began_ = Clock::now();
      wake_flusher_.notify_all();
    }
    return lock;
  }

  void commit_window_locked() noexcept {
    if (!window_open_ || depth_ > 0) return;
    window_open_ = false;
    // Between two windows calls commit on their own for a fifth of a window (2 ms at most),
    // so that another process waiting for the write lock (SQLite's busy handler polls) gets
    // its turn.
    no_window_before_ = Clock::now() + std::min<Clock::duration>(window_ / 5, std::chrono::milliseconds(2));
    if (!conn_.in_transaction()) {
      window_error_ = "store: group commit: rolled back by SQLite after an earlier error";
      return;
    }
    try {
      Query(conn_, "group commit", kCommit).run();
      if (checkpointer_) checkpointer_->finish_on_writer(conn_);
    } catch (const StoreError& e) {
      conn_.rollback_quietly("ROLLBACK");
      window_error_ = e.what();
    } catch (const std::exception& e) {  // e.g. bad_alloc building the message
      conn_.rollback_quietly("ROLLBACK");
      window_error_ = std::string("store: group commit: ") + e.what();
    }
  }

  void throw_window_error_locked() {
    if (window_error_.empty()) return;
    const std::string error = std::move(window_error_);
    window_error_.clear();
    throw StoreError(error + " (the writes of the last group-commit window are lost)");
  }

  // The background committer: sleeps until a window opens, then until it is due.
  void flush_loop() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      if (!window_open_) {
        wake_flusher_.wait(lock);
      } else if (const auto due = window_began_ + window_; Clock::now() < due) {
        wake_flusher_.wait_until(lock, due);
      } else {
        commit_window_locked();
      }
    }
  }

  std::recursive_mutex mutex_;
  Connection conn_;
  std::unique_ptr<sqlite::WalCheckpointer> checkpointer_;  // with checkpoint_in_background, for a file
  int depth_ = 0;  // nesting of transaction() calls, guarded by mutex_
  // Group commit, all guarded by mutex_.
  const std::chrono::milliseconds window_;
  bool window_open_ = false;
  Clock::time_point window_began_{};
  Clock::time_point no_window_before_{};
  std::string window_error_;  // a failed window commit, reported by the next write or flush()
  bool stopping_ = false;
  std::condition_variable_any wake_flusher_;
  std::thread flusher_;  // last: started after, and joined before, everything above goes
};

}  // namespace

std::unique_ptr<Store> Store::open_sqlite(const std::string& path, const StoreOptions& options) {
  if (options.group_commit_window.count() < 0) throw StoreError("store: open '" + path + "': negative group-commit window");
  if (options.checkpoint_in_background && options.group_commit_window.count() == 0)
    throw StoreError("store: open '" + path + "': background checkpoints need group commit (the window's commit finishes them)");
  sqlite::create_private_file(path);  // the DIGEST-MD5 hash is password-equivalent
  return std::make_unique<SqliteStore>(path, options);
}

}  // namespace tsp::store
