// The store's tables and how an older file is brought up to date.
#pragma once

namespace tsp::store::sqlite {

class Connection;

// The schema version this build writes (PRAGMA user_version).
inline constexpr int kSchemaVersion = 3;

// Sets the connection's pragmas (WAL, synchronous=NORMAL, foreign keys), then creates or
// migrates the schema in one transaction. Throws StoreError if the file is newer than
// this build understands.
void prepare_schema(Connection& conn);

}  // namespace tsp::store::sqlite
