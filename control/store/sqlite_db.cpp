#include "control/store/sqlite_db.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include "control/store/store.hpp"

namespace tsp::store::sqlite {
namespace {

[[noreturn]] void throw_sqlite(sqlite3* db, std::string_view op) {
  throw StoreError("store: " + std::string(op) + ": " + sqlite3_errmsg(db));
}

constexpr int kBusyTimeoutMs = 5000;

}  // namespace

Statement::Statement(sqlite3* db, std::string_view sql) {
  const char* tail = nullptr;
  // PERSISTENT: these live as long as the connection, so SQLite keeps them out of its
  // short-lived lookaside memory.
  if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                         &stmt_, &tail) != SQLITE_OK) {
    throw_sqlite(db, "prepare");
  }
  if (stmt_ == nullptr || std::string_view(tail, sql.data() + sql.size() - tail)
                                  .find_first_not_of(" \t\r\n;") != std::string_view::npos) {
    sqlite3_finalize(stmt_);
    throw StoreError("store: prepare: expected exactly one SQL statement");
  }
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Connection::Connection(const std::string& path) {
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw StoreError("store: open '" + path + "': " + msg);
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
}

Connection::~Connection() {
  cache_.clear();  // statements must be finalized before the connection closes
  sqlite3_close(db_);
}

void Connection::exec(std::string_view op, const char* sql) {
  if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) throw_sqlite(db_, op);
}

Statement& Connection::cached(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    it = cache_.emplace(std::string(sql), std::make_unique<Statement>(db_, sql)).first;
  }
  return *it->second;
}

int64_t Connection::changes() const { return sqlite3_changes64(db_); }

bool Connection::in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

void Connection::rollback_quietly(const char* sql) noexcept {
  if (in_transaction()) sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
}

Query::Query(Connection& conn, const char* op, std::string_view sql)
    : conn_(conn), stmt_(conn.cached(sql)), op_(op) {
  if (stmt_.in_use) throw StoreError("store: " + std::string(op) + ": statement already running");
  stmt_.in_use = true;
}

Query::~Query() {
  sqlite3_reset(stmt_.handle());
  sqlite3_clear_bindings(stmt_.handle());
  stmt_.in_use = false;
}

void Query::fail(std::string_view what) const {
  throw StoreError("store: " + std::string(op_) + ": " + std::string(what));
}

void Query::check_bind(int rc) {
  if (rc != SQLITE_OK) throw_sqlite(conn_.handle(), op_);
  ++next_param_;
}

Query& Query::bind(int64_t value) {
  check_bind(sqlite3_bind_int64(stmt_.handle(), next_param_, value));
  return *this;
}

Query& Query::bind(std::string_view text) {
  check_bind(sqlite3_bind_text64(stmt_.handle(), next_param_, text.data(), text.size(),
                                 SQLITE_TRANSIENT, SQLITE_UTF8));
  return *this;
}

Query& Query::bind_blob(std::span<const uint8_t> bytes) {
  // A zero-length blob from a null pointer would bind NULL; "" keeps it an empty blob.
  const void* data = bytes.empty() ? static_cast<const void*>("") : bytes.data();
  check_bind(sqlite3_bind_blob64(stmt_.handle(), next_param_, data, bytes.size(), SQLITE_TRANSIENT));
  return *this;
}

Query& Query::bind_null() {
  check_bind(sqlite3_bind_null(stmt_.handle(), next_param_));
  return *this;
}

bool Query::step() {
  // An unbound parameter would silently be NULL: catch a column list out of step with SQL.
  if (next_param_ - 1 != sqlite3_bind_parameter_count(stmt_.handle())) {
    fail("bound " + std::to_string(next_param_ - 1) + " of " +
         std::to_string(sqlite3_bind_parameter_count(stmt_.handle())) + " parameters");
  }
  const int rc = sqlite3_step(stmt_.handle());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  throw_sqlite(conn_.handle(), op_);
}

void Query::run() {
  if (step()) fail("statement returned a row");
}

bool Query::column_is_null(int col) const {
  return sqlite3_column_type(stmt_.handle(), col) == SQLITE_NULL;
}

int64_t Query::column_int(int col) const { return sqlite3_column_int64(stmt_.handle(), col); }

std::string Query::column_text(int col) const {
  const auto* text = sqlite3_column_text(stmt_.handle(), col);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_.handle(), col)));
}

std::span<const uint8_t> Query::column_blob(int col) const {
  const auto* data = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_.handle(), col));
  if (data == nullptr) return {};
  return {data, static_cast<size_t>(sqlite3_column_bytes(stmt_.handle(), col))};
}

void create_private_file(const std::string& path) {
  if (path.empty() || path == ":memory:" || path.starts_with("file:")) return;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) ::close(fd);
}

}  // namespace tsp::store::sqlite
