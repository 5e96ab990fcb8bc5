// Thin RAII over the sqlite3 C API: a connection with a cache of prepared statements, and
// one execution of a statement with bound parameters. Every failure is a StoreError.
// Not thread-safe by itself: the store serialises access with its own mutex.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace tsp::store::sqlite {

// SQLite creates files with the umask's mode: a new database file is created owner-only
// first (SQLite gives its -wal and -shm files the same mode). Nothing for ":memory:" or a
// URI; failures are left for the open that follows to report.
void create_private_file(const std::string& path);

class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);  // sql must hold exactly one statement
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  sqlite3_stmt* handle() const { return stmt_; }
  // Set while a Query runs it: a second Query on the same statement would reset the first.
  bool in_use = false;

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

class Connection {
 public:
  // Opens (creating if needed) the database file; read-write, no SQLite-level mutex.
  explicit Connection(const std::string& path);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  sqlite3* handle() const { return db_; }
  // Runs SQL without parameters (DDL, pragmas, BEGIN/COMMIT); rows are discarded.
  void exec(std::string_view op, const char* sql);
  // Prepared on first use, then reused: the session path must not re-parse SQL.
  Statement& cached(std::string_view sql);
  // Rows changed by the last INSERT/UPDATE/DELETE (not counting cascades).
  int64_t changes() const;
  bool in_transaction() const;
  // Undoes `sql` (ROLLBACK or ROLLBACK TO ...) on an error path, where the error being
  // reported matters more than a failing rollback; SQLite may already have rolled back.
  void rollback_quietly(const char* sql) noexcept;

 private:
  // Transparent hashing: looking a statement up by its SQL does not copy the text.
  struct SqlHash {
    using is_transparent = void;
    size_t operator()(std::string_view sql) const { return std::hash<std::string_view>{}(sql); }
  };
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, std::unique_ptr<Statement>, SqlHash, std::equal_to<>> cache_;
};

// One run of a cached statement. Parameters bind in order (bind() counts them); the
// statement is reset and its bindings cleared when the Query ends, even on error.
class Query {
 public:
  Query(Connection& conn, const char* op, std::string_view sql);
  ~Query();
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  Query& bind(int64_t value);
  Query& bind(std::string_view text);  // copied by SQLite: temporaries are fine
  Query& bind_blob(std::span<const uint8_t> bytes);
  Query& bind_null();

  // Advances to the next row: true if there is one, false when done.
  bool step();
  // For statements that return no rows.
  void run();

  bool column_is_null(int col) const;
  int64_t column_int(int col) const;
  std::string column_text(int col) const;  // "" for NULL
  std::span<const uint8_t> column_blob(int col) const;  // valid until the next step()

  [[noreturn]] void fail(std::string_view what) const;  // throws "store: <op>: <what>"

 private:
  void check_bind(int rc);

  Connection& conn_;
  Statement& stmt_;
  const char* op_;
  int next_param_ = 1;
};

}  // namespace tsp::store::sqlite
