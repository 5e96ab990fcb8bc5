// The broker's persistent state: users, stable allocations, live tunnels, quarantine.
// An interface so that a PostgreSQL store (several brokers) can sit beside the SQLite one.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "control/store/records.hpp"

namespace tsp::store {

// Every storage failure: the message names the operation and carries the database's own text.
class StoreError : public std::runtime_error {
  using runtime_error::runtime_error;
};

// Thread-safe: any control-plane thread may call any method. While one thread runs
// transaction(), other threads' calls wait until it commits or rolls back.
class Store {
 public:
  virtual ~Store() = default;

  // Creates the file and schema if missing, migrates an older schema. Throws StoreError
  // naming the path and the SQLite message. The file is created owner-only (0600): the
  // DIGEST-MD5 hash is password-equivalent.
  static std::unique_ptr<Store> open_sqlite(const std::string& path);

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

  // Runs `body` as one unit of work: committed if it returns, rolled back if it throws (the
  // exception is rethrown). Calls may nest: an inner transaction that throws undoes only
  // its own changes. `body` must use the Store it is given on the calling thread only.
  virtual void transaction(const std::function<void(Store&)>& body) = 0;
};

}  // namespace tsp::store
