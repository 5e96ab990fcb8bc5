// The tunnel service: turns an authenticated request into an offer (allocating addresses and
// prefixes), publishes accepted tunnels to the store and to the dataplane's RCU table, expires
// idle ones, and reloads everything from the store at start.
//
// Thread-safe: every public call takes the service's mutex (control plane only; the dataplane
// reads the TunnelTable, never this object).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/broker_config.hpp"
#include "control/anonymous_quota.hpp"
#include "control/address_pool.hpp"
#include "control/dns/reverse_zone.hpp"
#include "control/status_codes.hpp"
#include "control/store/store.hpp"
#include "control/store/tunnel_history.hpp"
#include "control/xml/tunnel_xml.hpp"
#include "shared/tunnel_table.hpp"

namespace tsp {

// Who asked: a registered user name, or empty for ANONYMOUS.
struct Identity {
  std::string user;
  bool anonymous() const { return user.empty(); }
};

struct Peer {
  bool udp = false;
  Ipv4Addr addr;
  uint16_t port = 0;
};

// A tunnel offered but not yet accepted. Owns its fresh (anonymous) allocations until commit
// or abandon.
inline constexpr uint32_t kNoSlot = UINT32_MAX;

struct PendingTunnel {
  store::TunnelRecord record;
  std::vector<std::pair<std::string, Ipv6Prefix>> temporary_blocks;  // returned on abandon
  uint32_t reserved_id = kNoSlot;  // kNoSlot: will take over the user's current tunnel's slot
  std::optional<uint32_t> anonymous_address;  // an anonymous offer: counted against this address
};

// A tunnel as one commit put it live. The slot id alone does not say that: a registered
// user's next tunnel takes over the slot of the one it replaces.
struct LiveTunnel {
  uint32_t id = kNoSlot;
  uint64_t commit_serial = 0;
};

struct PrepareResult {
  Status status = Status::Success;
  std::string reason;  // for the log when status != Success
  std::optional<PendingTunnel> pending;
  xml::TunnelOffer offer;
  std::vector<std::string> redirect_to;  // with Status::Redirect
};

struct ServiceCounters {
  uint64_t offers = 0, commits = 0, replaced = 0, expired = 0, refused = 0;
  uint64_t anonymous_limited = 0;  // of `refused`: the address held `limit anonymous per-address` tunnels
};

// One pool's figures (metrics, tspctl): capacity = used + quarantined + free + reserved.
struct PoolUsage {
  std::string name;
  Ipv6Prefix range;
  unsigned block_len = 0;
  uint64_t capacity = 0, used = 0, quarantined = 0, free = 0;
};

// Live tunnels counted by mode and host type (a router has a prefix, a host has none).
struct TunnelCensus {
  uint64_t v6v4_host = 0, v6v4_router = 0, v6udpv4_host = 0, v6udpv4_router = 0;
  uint64_t anonymous = 0;  // of all the above
};

class TunnelService {
 public:
  TunnelService(const config::Config& cfg, store::Store& store, TunnelTable& table);  // copies cfg
  TunnelService(std::shared_ptr<const config::Config> cfg, store::Store& store, TunnelTable& table);

  // Where every tunnel's start and end are recorded (control/store/tunnel_history.hpp); none
  // by default. Set before load_from_store, which reconciles it with the reloaded tunnels.
  void set_history(store::TunnelHistory* history) { history_ = history; }

  // The configuration in force. A reload swaps it: callers keep the one they got for the rest
  // of their operation (a session in flight finishes with the old one).
  std::shared_ptr<const config::Config> config() const;
  // A reload: adopts `next`'s pools and tsp/tunnel server settings; live tunnels stay as they
  // are. Pools are added freely; a pool that live tunnels use must keep its range and block
  // length. False with the reason ("file:line: ...") and nothing changed when refused.
  bool reconfigure(std::shared_ptr<const config::Config> next, int64_t now, std::string& error);

  // Loads allocations, quarantine and live tunnels from the store and publishes the tunnels.
  // Returns the number of tunnels now forwarding.
  size_t load_from_store(int64_t now);

  PrepareResult prepare(const Identity& who, const xml::TunnelRequest& req, const Peer& peer, int64_t now);
  // Publishes the tunnel (store first, then the table). Nothing if it can no longer be placed.
  std::optional<LiveTunnel> commit(PendingTunnel& pending, int64_t now);
  // Whether that commit's tunnel still forwards: not deleted, expired, kicked, replaced or
  // displaced by another tunnel since.
  bool is_live(const LiveTunnel& tunnel) const;
  void abandon(PendingTunnel& pending, int64_t now);
  // The `delete` action: removes the caller's tunnel. False if it has none.
  bool remove_for(const Identity& who, const Peer& peer, int64_t now);
  // tspctl kick: removes tunnel `id` (store and table); anonymous blocks go to quarantine.
  // False if no such live tunnel.
  bool kick(uint32_t id, int64_t now);
  // tspctl user del: removes the user's live tunnel, returns their stable blocks to the pools
  // through quarantine and deletes the user (and allocations) from the store. False if no
  // such user.
  bool remove_user(const std::string& user, int64_t now);
  // Expires tunnels silent for keepalive_missed intervals. Returns how many.
  size_t expire_idle(int64_t now);
  // Control-only mode: a UDP datagram from a v6udpv4 tunnel's endpoint proves it alive.
  void note_udp_activity(Ipv4Addr addr, uint16_t port, int64_t now);

  size_t live_tunnels() const;
  // Anonymous tunnels (offered or live) counted against `addr` (anonymous_quota.hpp).
  uint32_t anonymous_held_by(Ipv4Addr addr) const;
  // The same for every address holding some (tspctl sources).
  std::vector<std::pair<Ipv4Addr, uint32_t>> anonymous_by_address() const;
  std::vector<store::TunnelRecord> tunnels() const;
  ServiceCounters counters() const;
  // Valid until the next reconfigure() (which may replace a changed pool).
  const AddressPool* pool(const std::string& name) const;
  // Snapshots taken under the service's mutex, safe from any thread.
  std::vector<PoolUsage> pool_usage() const;
  TunnelCensus tunnel_census() const;

  // Called (under the service's mutex: it must not call back) when an id that an earlier
  // tunnel held is handed to a new one, before that tunnel is published: per-tunnel traffic
  // figures kept by id start again from zero (Dataplane::restart_tunnel_stats). Set once,
  // before serving.
  void on_slot_reused(std::function<void(uint32_t)> f) { slot_reused_ = std::move(f); }

  // Calls `f` (under the service's mutex, from whichever thread removes it: `f` must not call
  // back, only hand the news on) each time a tunnel that commit() put live stops forwarding:
  // deleted, expired, kicked, replaced, or its user deleted. For a server that holds a
  // connection open while its tunnel lives. Returns the handle for unwatch_gone().
  uint64_t watch_gone(std::function<void(const LiveTunnel&)> f);
  void unwatch_gone(uint64_t handle);
  // Likewise with each user remove_user() deleted (tspctl user del): for the servers, which
  // end that user's sessions (those holding no tunnel would otherwise idle on). Returns the
  // handle for unwatch_users_removed().
  uint64_t watch_users_removed(std::function<void(const std::string&)> f);
  void unwatch_users_removed(uint64_t handle);

  // Reverse DNS delegation (control/dns/): the routed prefixes of live tunnels whose clients
  // named name servers, and a callback (under the service's mutex: it must only hand the news
  // on) with each one that goes live or away, from a commit, the store's reload or a removal.
  // Set once, before serving.
  dns::DelegationList delegations() const;
  void on_delegations_changed(std::function<void(dns::DelegationChange)> f) { delegations_changed_ = std::move(f); }

 private:
  struct Allocation {
    Ipv6Prefix client_v6;
    std::optional<Ipv6Prefix> prefix;
    std::string prefix_pool;
  };
  std::variant<Allocation, std::pair<Status, std::string>> allocate_locked(const Identity& who,
                                                                           const xml::TunnelRequest& req,
                                                                           PendingTunnel& pending, int64_t now);
  std::optional<Ipv6Prefix> stable_block_locked(const std::string& user, AddressPool& pool, int64_t now);
  std::optional<uint32_t> conflicting_tunnel_locked(const store::TunnelRecord& rec) const;
  bool may_replace_locked(const store::TunnelRecord& old_rec, const store::TunnelRecord& new_rec) const;
  void index_locked(const store::TunnelRecord& rec);
  void unindex_locked(const store::TunnelRecord& rec);
  // Ends a live tunnel; `delete_from_store` false when the caller deleted it from the store already.
  void drop_locked(uint32_t id, int64_t now, store::TunnelEnd why, bool delete_from_store = true);
  void release_temporary_locked(const store::TunnelRecord& rec, int64_t reusable_at);
  std::optional<uint32_t> reserve_id_locked();  // calls slot_reused_ for an id used before
  void free_id_locked(uint32_t id);
  void withdraw_offer_locked(PendingTunnel& pending);  // what prepare() counted for it
  TunnelEntry entry_for(const store::TunnelRecord& rec) const;
  AddressPool* pool_locked(const std::string& name);
  // The pool of `rec` (endpoint or prefix) that no longer exists or no longer holds its address.
  std::optional<std::string> stale_pool_locked(const store::TunnelRecord& rec);
  void reserve_server_addresses_locked();
  void restore_pool_locked(AddressPool& pool, int64_t now);

  std::shared_ptr<const config::Config> cfg_;  // swapped by reconfigure(), under mu_
  // The same pointer for config(), which every session calls and which must not wait while
  // a commit holds mu_ through its store write. Stored under mu_ right after cfg_.
  std::atomic<std::shared_ptr<const config::Config>> published_cfg_;
  store::Store& store_;
  store::TunnelHistory* history_ = nullptr;
  TunnelTable& table_;
  mutable std::mutex mu_;
  std::map<std::string, AddressPool> pools_;
  std::map<uint32_t, store::TunnelRecord> live_;
  std::map<uint32_t, uint64_t> commit_serial_by_id_;  // tunnels committed by this process
  uint64_t last_commit_serial_ = 0;
  std::map<std::string, uint32_t> by_user_;
  std::map<uint32_t, uint32_t> proto41_by_v4_;
  std::map<std::pair<uint32_t, uint16_t>, uint32_t> udp_by_endpoint_;
  std::vector<uint32_t> free_ids_;
  uint32_t next_id_ = 0;
  ServiceCounters counters_;
  std::function<void(uint32_t)> slot_reused_;
  std::map<uint64_t, std::function<void(const LiveTunnel&)>> gone_watchers_;
  std::map<uint64_t, std::function<void(const std::string&)>> user_watchers_;
  AnonymousQuota anonymous_quota_;
  std::map<uint32_t, std::shared_ptr<const dns::Delegation>> delegated_;  // by tunnel id: live routers that named name servers
  std::function<void(dns::DelegationChange)> delegations_changed_;
  uint64_t last_watch_handle_ = 0;
};

// The default of the tunnel server's `quarantine` statement: how long a released anonymous
// address or prefix waits before it is handed out again.
inline constexpr int64_t kQuarantineSeconds = 3600;

}  // namespace tsp
