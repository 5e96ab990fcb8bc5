#include "control/store/tunnel_history.hpp"

#include <algorithm>
#include <unordered_set>

#include "control/store/row_codec.hpp"
#include "control/store/sqlite_db.hpp"
#include "control/store/store.hpp"

namespace tsp::store {

std::string_view tunnel_end_text(TunnelEnd why) {
  switch (why) {
    case TunnelEnd::Deleted: return "deleted";
    case TunnelEnd::Kicked: return "kicked";
    case TunnelEnd::Expired: return "expired";
    case TunnelEnd::Replaced: return "replaced";
    case TunnelEnd::Evicted: return "evicted";
    case TunnelEnd::UserDeleted: return "user_deleted";
    case TunnelEnd::Unfit: return "unfit";
    case TunnelEnd::Failed: return "failed";
    case TunnelEnd::Lost: return "lost";
  }
  return "unknown";
}

namespace {

using sqlite::Query;

// Addresses as text in RFC 5952 form, as in the store: an admin can query the file with the
// sqlite3 CLI. The indexes serve find(): by /128, by prefix, by IPv4 source, by user; the
// partial one finds a live tunnel's open record; prune() walks the rowid (oldest first).
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS tunnel_history (
  seq         INTEGER PRIMARY KEY,
  tunnel_id   INTEGER NOT NULL CHECK (tunnel_id BETWEEN 0 AND 4294967295),
  user        TEXT NOT NULL,
  anonymous   INTEGER NOT NULL CHECK (anonymous IN (0, 1)),
  mode        TEXT NOT NULL CHECK (mode IN ('v6v4', 'v6udpv4')),
  client_v4   TEXT NOT NULL,
  client_port INTEGER NOT NULL CHECK (client_port BETWEEN 0 AND 65535),
  client_v6   TEXT NOT NULL,
  prefix      TEXT,
  transport   TEXT NOT NULL,
  started_at  INTEGER NOT NULL,
  ended_at    INTEGER,
  end_reason  TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS tunnel_history_open ON tunnel_history (tunnel_id) WHERE ended_at IS NULL;
CREATE INDEX IF NOT EXISTS tunnel_history_v6 ON tunnel_history (client_v6);
CREATE INDEX IF NOT EXISTS tunnel_history_prefix ON tunnel_history (prefix) WHERE prefix IS NOT NULL;
CREATE INDEX IF NOT EXISTS tunnel_history_v4 ON tunnel_history (client_v4);
CREATE INDEX IF NOT EXISTS tunnel_history_user ON tunnel_history (user);
)sql";

constexpr std::string_view kEnd =
    "UPDATE tunnel_history SET ended_at = ?, end_reason = ? WHERE tunnel_id = ? AND ended_at IS NULL";
constexpr std::string_view kStart =
    "INSERT INTO tunnel_history (tunnel_id, user, anonymous, mode, client_v4, client_port, client_v6, prefix,"
    " transport, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr std::string_view kOpenIds = "SELECT tunnel_id FROM tunnel_history WHERE ended_at IS NULL";
constexpr std::string_view kPrune =
    "DELETE FROM tunnel_history WHERE seq IN"
    " (SELECT seq FROM tunnel_history WHERE ended_at < ? ORDER BY seq LIMIT ?)";
constexpr std::string_view kColumns =
    "SELECT seq, tunnel_id, user, anonymous, mode, client_v4, client_port, client_v6, prefix, transport,"
    " started_at, ended_at, end_reason FROM tunnel_history";

std::unique_ptr<sqlite::Connection> open_history(const std::string& path) {
  sqlite::create_private_file(path);  // user names and addresses: owner-only, like the store
  try {
    auto conn = std::make_unique<sqlite::Connection>(path);
    conn->exec("journal_mode", "PRAGMA journal_mode = WAL");
    conn->exec("synchronous", "PRAGMA synchronous = NORMAL");
    conn->exec("schema", kSchema);
    return conn;
  } catch (const StoreError& e) {
    std::string_view inner = e.what();
    if (inner.starts_with("store: ")) inner.remove_prefix(7);
    throw StoreError("tunnel history: open '" + path + "': " + std::string(inner));
  }
}

void end_record(sqlite::Connection& conn, uint32_t id, int64_t at, TunnelEnd why) {
  Query q(conn, "tunnel history: end", kEnd);
  q.bind(at).bind(tunnel_end_text(why)).bind(int64_t{id}).run();
}

void start_record(sqlite::Connection& conn, const TunnelRecord& t) {
  Query q(conn, "tunnel history: start", kStart);
  q.bind(int64_t{t.id}).bind(t.user).bind(int64_t{t.anonymous}).bind(sqlite::mode_text(t.mode));
  q.bind(t.client_v4.to_string()).bind(int64_t{t.client_port}).bind(t.client_v6.to_string());
  if (t.prefix) {
    q.bind(t.prefix->to_string());
  } else {
    q.bind_null();
  }
  q.bind(t.transport).bind(t.created_at).run();
}

TunnelHistoryRecord read_record(const Query& q) {
  sqlite::RowReader r(q);
  TunnelHistoryRecord h;
  h.seq = r.integer();
  h.tunnel_id = r.unsigned_int<uint32_t>("tunnel_id");
  r.name_row("tunnel history " + std::to_string(h.seq));
  h.user = r.text();
  h.anonymous = r.flag("anonymous");
  h.mode = r.mode("mode");
  h.client_v4 = r.ipv4("client_v4");
  h.client_port = r.unsigned_int<uint16_t>("client_port");
  h.client_v6 = r.ipv6("client_v6");
  h.prefix = r.optional_prefix("prefix");
  h.transport = r.text();
  h.started_at = r.integer();
  if (!q.column_is_null(11)) h.ended_at = q.column_int(11);
  if (!q.column_is_null(12)) h.end_reason = q.column_text(12);
  return h;
}

// One unit of work on the history's connection.
template <typename Body>
void in_transaction(sqlite::Connection& conn, Body body) {
  conn.exec("tunnel history: begin", "BEGIN IMMEDIATE");
  try {
    body();
    conn.exec("tunnel history: commit", "COMMIT");
  } catch (...) {
    conn.rollback_quietly("ROLLBACK");
    throw;
  }
}

}  // namespace

TunnelHistory::TunnelHistory(const std::string& path, std::chrono::milliseconds batch_window)
    : conn_(open_history(path)), window_(batch_window) {
  writer_ = std::thread([this] { writer_loop(); });
}

TunnelHistory::~TunnelHistory() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  writer_.join();  // it writes what is queued before it ends
}

std::string TunnelHistory::path_beside(const std::string& store_path) {
  if (store_path.empty() || store_path == ":memory:" || store_path.starts_with("file:")) return ":memory:";
  const auto dot = store_path.rfind('.');
  const auto slash = store_path.rfind('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return store_path + "-history";
  return store_path.substr(0, dot) + "-history" + store_path.substr(dot);
}

void TunnelHistory::queue(Event e) {
  bool first;
  {
    std::lock_guard lock(mu_);
    first = queue_.empty();
    queue_.push_back(std::move(e));
  }
  if (first) wake_.notify_one();
}

void TunnelHistory::started(const TunnelRecord& t) { queue(Event{true, t, t.created_at, TunnelEnd::Replaced}); }

void TunnelHistory::ended(uint32_t id, int64_t at, TunnelEnd why) {
  Event e;
  e.tunnel.id = id;
  e.at = at;
  e.why = why;
  queue(std::move(e));
}

void TunnelHistory::write_locked(const std::vector<Event>& events) {
  in_transaction(*conn_, [&] {
    for (const Event& e : events) {
      end_record(*conn_, e.tunnel.id, e.at, e.why);  // a start ends the record it replaces
      if (e.start) start_record(*conn_, e.tunnel);
    }
  });
}

// The queue is taken with db_mu_ held: whoever writes next writes the oldest events, so a
// tunnel's end is never written before its start (flush() and the writer thread race).
void TunnelHistory::write_pending() {
  std::lock_guard db(db_mu_);
  std::vector<Event> events;
  {
    std::lock_guard lock(mu_);
    events.swap(queue_);
  }
  if (events.empty()) return;
  try {
    write_locked(events);
  } catch (const StoreError& e) {
    std::lock_guard lock(mu_);
    ++failures_;
    last_error_ = e.what();
    throw;
  }
}

void TunnelHistory::flush() { write_pending(); }

void TunnelHistory::writer_loop() {
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    // Gather a window's events into one transaction (at once when stopping).
    if (!stopping_) wake_.wait_for(lock, window_, [&] { return stopping_; });
    const bool last = stopping_;
    lock.unlock();
    try {
      write_pending();
    } catch (const StoreError&) {
      // Counted in write_pending; those events are lost, the next ones are tried.
    }
    lock.lock();
    if (last && queue_.empty()) return;
  }
}

std::pair<size_t, size_t> TunnelHistory::reconcile(const std::vector<TunnelRecord>& live, int64_t now) {
  flush();
  std::lock_guard db(db_mu_);
  std::unordered_set<uint32_t> open;
  {
    Query q(*conn_, "tunnel history: open records", kOpenIds);
    while (q.step()) open.insert(static_cast<uint32_t>(q.column_int(0)));
  }
  std::unordered_set<uint32_t> live_ids;
  for (const auto& t : live) live_ids.insert(t.id);
  size_t lost = 0, started = 0;
  in_transaction(*conn_, [&] {
    for (uint32_t id : open) {
      if (live_ids.count(id)) continue;
      end_record(*conn_, id, now, TunnelEnd::Lost);
      ++lost;
    }
    for (const auto& t : live) {
      if (open.count(t.id)) continue;
      start_record(*conn_, t);
      ++started;
    }
  });
  return {lost, started};
}

std::vector<TunnelHistoryRecord> TunnelHistory::find(const HistoryQuery& query) {
  if (!query.ipv6 && !query.ipv4 && !query.user) throw StoreError("tunnel history: no address or user to look for");
  flush();
  // The subject by its indexes: an IPv6 address is a tunnel's /128 or inside its prefix, at
  // any length (the candidate prefixes are the address cut at each of them).
  std::string sql(kColumns);
  std::vector<std::string> args;
  std::vector<std::string> where;
  if (query.ipv6) {
    std::string any = "(client_v6 = ? OR prefix IN (";
    args.push_back(query.ipv6->to_string());
    for (unsigned len = 0; len <= 128; ++len) {
      any += len ? ", ?" : "?";
      args.push_back(Ipv6Prefix{query.ipv6->masked(len), static_cast<uint8_t>(len)}.to_string());
    }
    where.push_back(any + "))");
  }
  if (query.ipv4) {
    where.push_back("client_v4 = ?");
    args.push_back(query.ipv4->to_string());
  }
  if (query.user) {
    where.push_back("user = ? AND anonymous = 0");
    args.push_back(*query.user);
  }
  if (query.at) where.push_back("started_at <= ? AND (ended_at IS NULL OR ended_at >= ?)");
  for (size_t i = 0; i < where.size(); ++i) sql += (i ? " AND " : " WHERE ") + where[i];
  sql += " ORDER BY seq DESC LIMIT ?";
  std::lock_guard db(db_mu_);
  Query q(*conn_, "tunnel history: find", sql);
  for (const auto& a : args) q.bind(a);
  if (query.at) q.bind(*query.at).bind(*query.at);
  q.bind(static_cast<int64_t>(std::min<size_t>(query.limit, INT64_MAX)));
  std::vector<TunnelHistoryRecord> out;
  while (q.step()) out.push_back(read_record(q));
  return out;
}

size_t TunnelHistory::prune(int64_t ended_before, size_t max_rows) {
  std::lock_guard db(db_mu_);
  Query q(*conn_, "tunnel history: prune", kPrune);
  q.bind(ended_before).bind(static_cast<int64_t>(std::min<size_t>(max_rows, INT64_MAX))).run();
  return static_cast<size_t>(conn_->changes());
}

uint64_t TunnelHistory::write_failures() const {
  std::lock_guard lock(mu_);
  return failures_;
}

std::string TunnelHistory::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

}  // namespace tsp::store
