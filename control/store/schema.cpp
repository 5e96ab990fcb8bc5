#include "control/store/schema.hpp"

#include <string>

#include "control/store/sqlite_db.hpp"
#include "control/store/store.hpp"

namespace tsp::store::sqlite {
namespace {

// Addresses are text in canonical RFC 5952 form so that an admin can read and query them
// with the sqlite3 CLI; keys and salt are blobs (SELECT hex(...) shows them).
constexpr const char* kVersion1 = R"sql(
CREATE TABLE users (
  name             TEXT PRIMARY KEY NOT NULL CHECK (name <> ''),
  enabled          INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  created_at       INTEGER NOT NULL,
  realm            TEXT NOT NULL,
  digest_md5_urp   BLOB NOT NULL CHECK (length(digest_md5_urp) = 16),
  scram_salt       BLOB NOT NULL,
  scram_iterations INTEGER NOT NULL CHECK (scram_iterations BETWEEN 0 AND 4294967295),
  scram_stored_key BLOB NOT NULL CHECK (length(scram_stored_key) = 32),
  scram_server_key BLOB NOT NULL CHECK (length(scram_server_key) = 32)
) STRICT;

CREATE TABLE allocations (
  user  TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE ON UPDATE CASCADE,
  pool  TEXT NOT NULL,
  block TEXT NOT NULL,
  PRIMARY KEY (user, pool),
  UNIQUE (pool, block)  -- one block, one owner
) STRICT;

-- No foreign key to users: a tunnel's user is a label, and anonymous tunnels have none.
CREATE TABLE tunnels (
  id                 INTEGER PRIMARY KEY CHECK (id BETWEEN 0 AND 4294967295),
  user               TEXT NOT NULL,
  anonymous          INTEGER NOT NULL CHECK (anonymous IN (0, 1)),
  mode               TEXT NOT NULL CHECK (mode IN ('v6v4', 'v6udpv4')),
  client_v4          TEXT NOT NULL,
  client_port        INTEGER NOT NULL CHECK (client_port BETWEEN 0 AND 65535),
  server_v4          TEXT NOT NULL,
  server_port        INTEGER NOT NULL CHECK (server_port BETWEEN 0 AND 65535),
  client_v6          TEXT NOT NULL,
  server_v6          TEXT NOT NULL,
  endpoint_pool      TEXT NOT NULL,
  prefix             TEXT,
  prefix_pool        TEXT NOT NULL,
  keepalive_interval INTEGER NOT NULL CHECK (keepalive_interval BETWEEN 0 AND 4294967295),
  mtu                INTEGER NOT NULL CHECK (mtu BETWEEN 0 AND 65535),
  dns_names          TEXT NOT NULL,
  transport          TEXT NOT NULL CHECK (transport IN ('udp', 'tcp')),
  created_at         INTEGER NOT NULL,
  last_seen          INTEGER NOT NULL
) STRICT;

CREATE TABLE quarantine (
  pool  TEXT NOT NULL,
  block TEXT NOT NULL,
  until INTEGER NOT NULL,
  PRIMARY KEY (pool, block)
) STRICT;
CREATE INDEX quarantine_until ON quarantine (until);
)sql";

// Version 2: the lockout's state across restarts (control/auth_lockout.hpp). `seq` keeps the
// least recently touched first; `trusted` lists dotted quads separated by spaces, most recent
// first.
constexpr const char* kVersion2 = R"sql(
CREATE TABLE lockout_sources (
  seq          INTEGER PRIMARY KEY,
  address      TEXT NOT NULL UNIQUE,
  window_start INTEGER NOT NULL,
  failures     INTEGER NOT NULL CHECK (failures BETWEEN 0 AND 4294967295),
  locked_until INTEGER NOT NULL
) STRICT;

CREATE TABLE lockout_users (
  seq          INTEGER PRIMARY KEY,
  name         TEXT NOT NULL UNIQUE,
  window_start INTEGER NOT NULL,
  failures     INTEGER NOT NULL CHECK (failures BETWEEN 0 AND 4294967295),
  locked_until INTEGER NOT NULL,
  trusted      TEXT NOT NULL
) STRICT;
)sql";

// Version 3: the broker's own secrets (SCRAM's fake salts for unknown names must stay the same
// across restarts, or a name whose salt changed is known not to exist).
constexpr const char* kVersion3 = R"sql(
CREATE TABLE secrets (
  name  TEXT PRIMARY KEY NOT NULL,
  value BLOB NOT NULL
) STRICT;
)sql";

struct Migration {
  int to_version;
  const char* sql;
};

// Append-only: a file at version N runs every step above N, in order.
constexpr Migration kMigrations[] = {
    {1, kVersion1},
    {2, kVersion2},
    {3, kVersion3},
};
static_assert(std::size(kMigrations) == kSchemaVersion, "one migration per schema version");

int read_user_version(Connection& conn) {
  Query q(conn, "read schema version", "PRAGMA user_version");
  if (!q.step()) q.fail("no row");
  return static_cast<int>(q.column_int(0));
}

void migrate(Connection& conn) {
  const int current = read_user_version(conn);
  if (current > kSchemaVersion) {
    throw StoreError("store: schema version " + std::to_string(current) +
                     " is newer than this broker understands (" + std::to_string(kSchemaVersion) + ")");
  }
  for (const Migration& m : kMigrations) {
    if (m.to_version <= current) continue;
    conn.exec("migrate to schema version " + std::to_string(m.to_version), m.sql);
  }
  // PRAGMA takes no bound parameters; the value is our own integer constant.
  const std::string set_version = "PRAGMA user_version = " + std::to_string(kSchemaVersion);
  conn.exec("write schema version", set_version.c_str());
}

}  // namespace

void prepare_schema(Connection& conn) {
  // WAL: readers do not block the writer. NORMAL: a power cut may lose the last commits but
  // never corrupts the file; clients simply reconnect.
  conn.exec("journal_mode", "PRAGMA journal_mode = WAL");
  conn.exec("synchronous", "PRAGMA synchronous = NORMAL");
  conn.exec("foreign_keys", "PRAGMA foreign_keys = ON");
  // IMMEDIATE takes the write lock before reading the version, so two processes opening a
  // new file at once cannot both create the tables.
  conn.exec("begin migration", "BEGIN IMMEDIATE");
  try {
    migrate(conn);
    conn.exec("commit migration", "COMMIT");
  } catch (...) {
    conn.rollback_quietly("ROLLBACK");
    throw;
  }
}

}  // namespace tsp::store::sqlite
