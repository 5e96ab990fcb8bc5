#include "control/tunnel_service.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "control/tunnel_mode.hpp"

namespace tsp {

namespace {
constexpr unsigned kDefaultRouterPrefix = 48;  // gogoc sends length 0 meaning "the default", /48

bool is_udp(const store::TunnelRecord& r) { return r.mode == store::TunnelModeRec::V6UDPV4; }
}  // namespace

TunnelService::TunnelService(const config::Config& cfg, store::Store& store, TunnelTable& table)
    : TunnelService(std::make_shared<const config::Config>(cfg), store, table) {}

TunnelService::TunnelService(std::shared_ptr<const config::Config> cfg, store::Store& store, TunnelTable& table)
    : cfg_(std::move(cfg)), published_cfg_(cfg_), store_(store), table_(table) {
  for (const auto& p : cfg_->pools) pools_.emplace(p.name, AddressPool(p.name, p.range, p.block_len));
  reserve_server_addresses_locked();
}

// Block 0 of an endpoint pool is the subnet-router anycast address; our own address is ours.
void TunnelService::reserve_server_addresses_locked() {
  const auto& server = cfg_->tunnel_server();
  if (auto* endpoints = pool_locked(server.endpoint_pool)) {
    endpoints->reserve(nth_subprefix(endpoints->range(), 128, 0));
    endpoints->reserve(Ipv6Prefix{server.ipv6_address, 128});
  }
}

std::shared_ptr<const config::Config> TunnelService::config() const { return published_cfg_.load(); }

// A pool made anew by a reload learns from the store what registered users keep and what is
// still in quarantine (no live tunnel uses it: reconfigure() refuses that).
void TunnelService::restore_pool_locked(AddressPool& pool, int64_t now) {
  for (const auto& a : store_.load_allocations())
    if (a.pool == pool.name()) pool.claim(a.block);
  for (const auto& q : store_.load_quarantine())
    if (q.pool == pool.name() && q.until > now) pool.quarantine(q.block, q.until);
}

bool TunnelService::reconfigure(std::shared_ptr<const config::Config> next, int64_t now, std::string& error) {
  std::lock_guard lock(mu_);
  // Pools that live tunnels use must stay exactly as they are: their blocks are in the table.
  std::map<std::string, size_t> in_use;
  for (const auto& [id, rec] : live_) {
    ++in_use[rec.endpoint_pool];
    if (rec.prefix) ++in_use[rec.prefix_pool];
  }
  for (const auto& [name, count] : in_use) {
    const auto* was = cfg_->find_pool(name);
    const auto* will = next->find_pool(name);
    if (!will) {
      error = fmt::format("{}: pool '{}' ({}:{}) is used by {} live tunnel(s): removing it needs a restart",
                          next->file, name, cfg_->file, was ? was->line : 0, count);
      return false;
    }
    if (was && (will->range != was->range || will->block_len != was->block_len)) {
      error = fmt::format("{}:{}: pool '{}' is used by {} live tunnel(s): changing its range or block length "
                          "needs a restart",
                          next->file, will->line, name, count);
      return false;
    }
  }
  std::map<std::string, AddressPool> pools;
  for (const auto& p : next->pools) {
    const auto* was = cfg_->find_pool(p.name);
    auto old = pools_.find(p.name);
    if (was && old != pools_.end() && was->range == p.range && was->block_len == p.block_len) {
      pools.emplace(p.name, std::move(old->second));
      continue;
    }
    auto fresh = pools.emplace(p.name, AddressPool(p.name, p.range, p.block_len)).first;
    restore_pool_locked(fresh->second, now);
    spdlog::info("pool '{}' {} /{} {}", p.name, p.range.to_string(), p.block_len, was ? "changed" : "added");
  }
  for (const auto& [name, pool] : pools_)
    if (!next->find_pool(name)) spdlog::info("pool '{}' removed", name);
  pools_ = std::move(pools);
  cfg_ = std::move(next);
  published_cfg_.store(cfg_);
  reserve_server_addresses_locked();
  return true;
}

std::optional<std::string> TunnelService::stale_pool_locked(const store::TunnelRecord& rec) {
  auto holds = [&](const std::string& name, const Ipv6Addr& addr) {
    const AddressPool* p = pool_locked(name);
    return p != nullptr && p->range().contains(addr);
  };
  if (!holds(rec.endpoint_pool, rec.client_v6)) return rec.endpoint_pool;
  if (rec.prefix && !holds(rec.prefix_pool, rec.prefix->addr)) return rec.prefix_pool;
  return std::nullopt;
}

AddressPool* TunnelService::pool_locked(const std::string& name) {
  auto it = pools_.find(name);
  return it == pools_.end() ? nullptr : &it->second;
}

const AddressPool* TunnelService::pool(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = pools_.find(name);
  return it == pools_.end() ? nullptr : &it->second;
}

size_t TunnelService::live_tunnels() const {
  std::lock_guard lock(mu_);
  return live_.size();
}

std::vector<store::TunnelRecord> TunnelService::tunnels() const {
  std::lock_guard lock(mu_);
  std::vector<store::TunnelRecord> out;
  out.reserve(live_.size());
  for (const auto& [id, rec] : live_) {
    out.push_back(rec);
    out.back().last_seen = std::max<int64_t>(rec.last_seen, static_cast<int64_t>(table_.last_seen(id)));
  }
  return out;
}

ServiceCounters TunnelService::counters() const {
  std::lock_guard lock(mu_);
  return counters_;
}

std::vector<PoolUsage> TunnelService::pool_usage() const {
  std::lock_guard lock(mu_);
  std::vector<PoolUsage> out;
  out.reserve(pools_.size());
  for (const auto& [name, pool] : pools_) {
    out.push_back({name, pool.range(), pool.block_len(), pool.capacity(), pool.used(), pool.quarantined(),
                   pool.free()});
  }
  return out;
}

TunnelCensus TunnelService::tunnel_census() const {
  std::lock_guard lock(mu_);
  TunnelCensus c;
  for (const auto& [id, rec] : live_) {
    const bool router = rec.prefix.has_value();
    if (rec.mode == store::TunnelModeRec::V6UDPV4) {
      ++(router ? c.v6udpv4_router : c.v6udpv4_host);
    } else {
      ++(router ? c.v6v4_router : c.v6v4_host);
    }
    if (rec.anonymous) ++c.anonymous;
  }
  return c;
}

std::optional<uint32_t> TunnelService::reserve_id_locked() {
  if (!free_ids_.empty()) {
    const uint32_t id = free_ids_.back();
    free_ids_.pop_back();
    if (slot_reused_) slot_reused_(id);  // before the new tunnel can see a packet
    return id;
  }
  if (next_id_ >= cfg_->max_tunnels) return std::nullopt;
  return next_id_++;
}

void TunnelService::free_id_locked(uint32_t id) {
  if (id != kNoSlot) free_ids_.push_back(id);
}

void TunnelService::withdraw_offer_locked(PendingTunnel& pending) {
  if (pending.anonymous_address) anonymous_quota_.offer_withdrawn(*pending.anonymous_address);
  pending.anonymous_address.reset();
}

uint32_t TunnelService::anonymous_held_by(Ipv4Addr addr) const {
  std::lock_guard lock(mu_);
  return anonymous_quota_.held_by(addr.value);
}

std::vector<std::pair<Ipv4Addr, uint32_t>> TunnelService::anonymous_by_address() const {
  std::lock_guard lock(mu_);
  std::vector<std::pair<Ipv4Addr, uint32_t>> out;
  out.reserve(anonymous_quota_.addresses());
  anonymous_quota_.for_each([&](uint32_t addr, uint32_t n) { out.emplace_back(Ipv4Addr{addr}, n); });
  return out;
}

TunnelEntry TunnelService::entry_for(const store::TunnelRecord& r) const {
  TunnelEntry e{};
  e.id = r.id;
  e.mode = is_udp(r) ? TunnelMode::V6UDPV4 : TunnelMode::V6V4;
  e.prefix_len = r.prefix ? r.prefix->len : 0;
  e.mtu = r.mtu;
  e.client_v4 = r.client_v4;
  e.client_port = r.client_port;
  e.server_v4 = r.server_v4;
  e.server_port = r.server_port;
  e.client_v6 = r.client_v6;
  e.server_v6 = r.server_v6;
  if (r.prefix) e.prefix = r.prefix->addr;
  return e;
}

void TunnelService::index_locked(const store::TunnelRecord& r) {
  live_[r.id] = r;
  if (!r.anonymous) by_user_[r.user] = r.id;
  if (is_udp(r)) udp_by_endpoint_[{r.client_v4.value, r.client_port}] = r.id;
  else proto41_by_v4_[r.client_v4.value] = r.id;
  if (r.prefix && !r.dns_names.empty()) {
    auto d = std::make_shared<const dns::Delegation>(dns::Delegation{*r.prefix, dns::split_stored_names(r.dns_names)});
    delegated_[r.id] = d;
    if (delegations_changed_) delegations_changed_({*r.prefix, std::move(d)});
  }
}

void TunnelService::unindex_locked(const store::TunnelRecord& r) {
  if (!r.anonymous) {
    auto it = by_user_.find(r.user);
    if (it != by_user_.end() && it->second == r.id) by_user_.erase(it);
  }
  if (is_udp(r)) {
    auto it = udp_by_endpoint_.find({r.client_v4.value, r.client_port});
    if (it != udp_by_endpoint_.end() && it->second == r.id) udp_by_endpoint_.erase(it);
  } else {
    auto it = proto41_by_v4_.find(r.client_v4.value);
    if (it != proto41_by_v4_.end() && it->second == r.id) proto41_by_v4_.erase(it);
  }
  if (const auto serial = commit_serial_by_id_.find(r.id); serial != commit_serial_by_id_.end()) {
    const LiveTunnel gone{r.id, serial->second};
    commit_serial_by_id_.erase(serial);
    for (const auto& [handle, watcher] : gone_watchers_) watcher(gone);
  }
  if (const auto d = delegated_.find(r.id); d != delegated_.end()) {
    const Ipv6Prefix prefix = d->second->prefix;
    delegated_.erase(d);
    if (delegations_changed_) delegations_changed_({prefix, nullptr});
  }
  anonymous_quota_.gone(r.id);
  live_.erase(r.id);  // last: `r` may be the record erased here
}

dns::DelegationList TunnelService::delegations() const {
  std::lock_guard lock(mu_);
  dns::DelegationList out;
  out.reserve(delegated_.size());
  for (const auto& [id, d] : delegated_) out.push_back(d);
  return out;
}

// Anonymous tunnels hold temporary blocks: back to their pools through quarantine.
void TunnelService::release_temporary_locked(const store::TunnelRecord& r, int64_t reusable_at) {
  if (!r.anonymous) return;  // registered users keep their blocks
  auto give_back = [&](const std::string& pool_name, const Ipv6Prefix& block) {
    if (auto* p = pool_locked(pool_name)) {
      p->release(block, reusable_at);
      store_.save_quarantine({pool_name, block, reusable_at});
    }
  };
  give_back(r.endpoint_pool, Ipv6Prefix{r.client_v6, 128});
  if (r.prefix) give_back(r.prefix_pool, *r.prefix);
}

void TunnelService::drop_locked(uint32_t id, int64_t now, store::TunnelEnd why, bool delete_from_store) {
  auto it = live_.find(id);
  if (it == live_.end()) return;
  const store::TunnelRecord rec = it->second;
  table_.remove(id);
  unindex_locked(rec);
  if (delete_from_store) store_.delete_tunnel(id);
  if (history_) history_->ended(id, now, why);
  release_temporary_locked(rec, now + cfg_->tunnel_server().quarantine);
  free_id_locked(id);
}

size_t TunnelService::load_from_store(int64_t now) {
  std::lock_guard lock(mu_);
  for (const auto& a : store_.load_allocations()) {
    auto* p = pool_locked(a.pool);
    if (!p || !p->claim(a.block))
      spdlog::warn("store: allocation {} of user '{}' is not in pool '{}' any more; ignored", a.block.to_string(),
                   a.user, a.pool);
  }
  for (const auto& q : store_.load_quarantine()) {
    if (auto* p = pool_locked(q.pool)) {
      if (q.until > now) p->quarantine(q.block, q.until);
      else store_.delete_quarantine(q.pool, q.block);
    }
  }
  size_t loaded = 0;
  std::vector<uint32_t> used_ids;
  for (auto& rec : store_.load_tunnels()) {
    bool ok = rec.id < cfg_->max_tunnels && !live_.count(rec.id);
    if (ok && rec.anonymous) {
      auto* ep = pool_locked(rec.endpoint_pool);
      ok = ep && ep->claim(Ipv6Prefix{rec.client_v6, 128});
      if (ok && rec.prefix) {
        auto* pp = pool_locked(rec.prefix_pool);
        ok = pp && pp->claim(*rec.prefix);
        if (!ok) ep->release(Ipv6Prefix{rec.client_v6, 128}, now);
      }
    }
    if (ok) ok = !conflicting_tunnel_locked(rec).has_value() && table_.upsert(entry_for(rec));
    if (!ok) {
      spdlog::warn("store: tunnel {} ({} {}) no longer fits this configuration; removed", rec.id,
                   rec.anonymous ? "anonymous" : rec.user, rec.client_v6.to_string());
      store_.delete_tunnel(rec.id);
      if (history_) history_->ended(rec.id, now, store::TunnelEnd::Unfit);
      continue;
    }
    // The stored stamp is the commit time (activity lives in the table only), and nobody saw
    // traffic while the daemon was down: start a fresh idle period, or the first sweep after
    // a restart would expire every tunnel older than keepalive_interval * keepalive_missed.
    rec.last_seen = std::max(rec.last_seen, now);
    table_.stamp_last_seen(rec.id, static_cast<uint64_t>(rec.last_seen));
    index_locked(rec);
    if (rec.anonymous) anonymous_quota_.reloaded(rec.id, rec.client_v4.value);
    used_ids.push_back(rec.id);
    ++loaded;
  }
  // Ids are dense from 0; the gaps left by the reload go to the free list.
  std::sort(used_ids.begin(), used_ids.end());
  next_id_ = used_ids.empty() ? 0 : used_ids.back() + 1;
  for (uint32_t id = 0, k = 0; id < next_id_; ++id) {
    if (k < used_ids.size() && used_ids[k] == id) ++k;
    else free_ids_.push_back(id);
  }
  // Records the history holds open for tunnels the store no longer has (a crash lost them, or
  // their end), and live tunnels it has no record of (the first start with a history).
  if (history_) {
    std::vector<store::TunnelRecord> live;
    live.reserve(live_.size());
    for (const auto& [id, rec] : live_) live.push_back(rec);
    try {
      const auto [lost, started] = history_->reconcile(live, now);
      if (lost) spdlog::warn("tunnel history: {} tunnel(s) no longer stored; their records end as lost", lost);
      if (started) spdlog::info("tunnel history: records started for {} live tunnel(s) it did not know", started);
    } catch (const store::StoreError& e) {
      spdlog::error("tunnel history: {}", e.what());
    }
  }
  return loaded;
}

std::optional<Ipv6Prefix> TunnelService::stable_block_locked(const std::string& user, AddressPool& pool,
                                                            int64_t now) {
  if (auto kept = store_.find_allocation(user, pool.name()); kept && pool.contains(*kept)) return kept;
  auto fresh = pool.allocate(now);
  if (!fresh) return fresh;
  try {
    store_.save_allocation(user, pool.name(), *fresh);
  } catch (const store::StoreError&) {
    // Not kept (the user was deleted while a session of theirs was open, say): the block was
    // never handed out, so it goes back at once instead of staying used until a restart.
    pool.release(*fresh, now);
    throw;
  }
  return fresh;
}

std::variant<TunnelService::Allocation, std::pair<Status, std::string>> TunnelService::allocate_locked(
    const Identity& who, const xml::TunnelRequest& req, PendingTunnel& pending, int64_t now) {
  const auto& server = cfg_->tunnel_server();
  AddressPool* prefix_pool = nullptr;
  unsigned want_len = 0;
  if (req.router) {
    if (who.anonymous()) return std::pair{Status::PrefixForAnonymous, std::string("anonymous clients get no prefix")};
    if (!req.prefix_length) return std::pair{Status::MissingPrefixLength, std::string("router without prefix length")};
    want_len = *req.prefix_length == 0 ? kDefaultRouterPrefix : *req.prefix_length;
    for (const auto& name : server.prefix_pools)
      if (auto* p = pool_locked(name); p && p->block_len() == want_len) prefix_pool = p;
    if (!prefix_pool)
      return std::pair{Status::UnsupportedPrefixLength, "no pool hands out /" + std::to_string(want_len)};
  }
  AddressPool* endpoints = pool_locked(server.endpoint_pool);
  if (!endpoints) return std::pair{Status::ServerError, std::string("endpoints pool missing")};

  Allocation a;
  if (who.anonymous()) {
    auto host = endpoints->allocate(now);
    if (!host) return std::pair{Status::NoMoreTunnels, "pool " + endpoints->name() + " exhausted"};
    pending.temporary_blocks.emplace_back(endpoints->name(), *host);
    a.client_v6 = *host;
  } else {
    auto host = stable_block_locked(who.user, *endpoints, now);
    if (!host) return std::pair{Status::NoMoreTunnels, "pool " + endpoints->name() + " exhausted"};
    a.client_v6 = *host;
    if (prefix_pool) {
      auto prefix = stable_block_locked(who.user, *prefix_pool, now);
      if (!prefix)
        return std::pair{Status::PrefixLengthUnavailable, "pool " + prefix_pool->name() + " exhausted"};
      a.prefix = prefix;
      a.prefix_pool = prefix_pool->name();
    }
  }
  return a;
}

// Another live tunnel that holds one of this record's keys, other than the one it replaces.
std::optional<uint32_t> TunnelService::conflicting_tunnel_locked(const store::TunnelRecord& rec) const {
  if (is_udp(rec)) {
    auto it = udp_by_endpoint_.find({rec.client_v4.value, rec.client_port});
    if (it != udp_by_endpoint_.end() && it->second != rec.id) return it->second;
  } else {
    auto it = proto41_by_v4_.find(rec.client_v4.value);
    if (it != proto41_by_v4_.end() && it->second != rec.id) return it->second;
  }
  return std::nullopt;
}

// The same box reconnecting: an anonymous proto-41 tunnel from the same IPv4 address, or any
// tunnel on the same NAT mapping (the NAT gave that address:port to the new session). A
// registered user's proto-41 tunnel is never taken over by somebody else (506).
bool TunnelService::may_replace_locked(const store::TunnelRecord& old_rec, const store::TunnelRecord& new_rec) const {
  if (!old_rec.anonymous && old_rec.user == new_rec.user) return true;
  if (is_udp(new_rec)) return true;
  return old_rec.anonymous && new_rec.anonymous;
}

PrepareResult TunnelService::prepare(const Identity& who, const xml::TunnelRequest& req, const Peer& peer,
                                     int64_t now) {
  PrepareResult out;
  auto refuse = [&](Status s, std::string why) {
    out.status = s;
    out.reason = std::move(why);
    std::lock_guard lock(mu_);
    ++counters_.refused;
    return out;
  };
  // The type first: a v4v6 request carries no IPv4 address, and its answer is 303, not 501.
  if (req.type != "v6v4" && req.type != "v6udpv4" && req.type != "v6anyv4")
    return refuse(Status::UnsupportedTunnelType, "tunnel type '" + req.type + "' is not offered");
  if (!req.client_ipv4) return refuse(Status::InvalidIpv4, "no client ipv4 address in the request");
  const auto declared = Ipv4Addr::parse(*req.client_ipv4);
  if (!declared) return refuse(Status::InvalidIpv4, "client ipv4 '" + *req.client_ipv4 + "' is not an address");

  // The names go into a zone file (control/dns/): anything but a plain host name is refused.
  for (const auto& name : req.dns_names) {
    if (!dns::valid_name_server(name))
      return refuse(Status::DnsDelegationError, "dns_server name '" + name + "' is not a host name");
  }

  const auto decision = decide_tunnel_mode(req.type, req.proxy, *declared, peer.addr, peer.udp);
  if (auto* no = std::get_if<ModeRefusal>(&decision)) return refuse(no->status, no->reason);
  const auto mode = std::get<ModeDecision>(decision).mode;

  const auto cfg = config();  // this request's configuration, whatever a reload does meanwhile
  const auto& tspc = cfg->tsp();
  const auto& server = cfg->tunnel_server();
  PendingTunnel pending;
  auto& rec = pending.record;
  rec.user = who.user;
  rec.anonymous = who.anonymous();
  rec.mode = mode == OfferedMode::V6UDPV4 ? store::TunnelModeRec::V6UDPV4 : store::TunnelModeRec::V6V4;
  rec.client_v4 = req.proxy ? *declared : peer.addr;
  rec.client_port = mode == OfferedMode::V6UDPV4 ? peer.port : 0;
  rec.server_v4 = server.address;
  rec.server_port = mode == OfferedMode::V6UDPV4 ? tspc.udp_port.value_or(3653) : 0;
  rec.server_v6 = server.ipv6_address;
  rec.endpoint_pool = server.endpoint_pool;
  rec.keepalive_interval = tspc.keepalive_interval;
  rec.mtu = static_cast<uint16_t>(server.mtu);
  rec.dns_names = dns::join_stored_names(req.dns_names);
  rec.transport = peer.udp ? "udp" : "tcp";
  rec.created_at = now;
  rec.last_seen = now;

  std::lock_guard lock(mu_);
  // Capacity and the proto-41 key are checked before anything is allocated.
  const uint32_t replace_id = !who.anonymous() && by_user_.count(who.user) ? by_user_.at(who.user) : UINT32_MAX;
  rec.id = replace_id;
  const auto other = conflicting_tunnel_locked(rec);
  if (other && !may_replace_locked(live_.at(*other), rec)) {
    ++counters_.refused;
    out.status = Status::Ipv4AlreadyUsed;
    out.reason = "IPv4 " + rec.client_v4.to_string() + " already carries another user's v6v4 tunnel";
    return out;
  }
  // One address may hold only so many anonymous tunnels, unless this one takes over one of
  // them (the same NAT mapping, or proto 41 from the same address). Not a redirect: another
  // broker would only give that address more.
  if (who.anonymous() && !anonymous_quota_.has_room(peer.addr.value, cfg->max_anonymous_per_address) &&
      !(other && anonymous_quota_.address_of(*other) == peer.addr.value)) {
    ++counters_.refused;
    ++counters_.anonymous_limited;
    out.status = Status::NoMoreTunnels;
    out.reason = peer.addr.to_string() + " holds " + std::to_string(anonymous_quota_.held_by(peer.addr.value)) +
                 " anonymous tunnels (limit anonymous per-address " + std::to_string(cfg->max_anonymous_per_address) +
                 ")";
    return out;
  }
  // A registered user's tunnel replaces their old one in its slot (commit): no slot of its own.
  auto id = replace_id != UINT32_MAX ? std::optional<uint32_t>(kNoSlot) : reserve_id_locked();
  if (!id) {
    ++counters_.refused;
    out.status = cfg_->broker.redirect_brokers.empty() ? Status::NoMoreTunnels : Status::Redirect;
    out.reason = "tunnel table full (limit tunnels " + std::to_string(cfg_->max_tunnels) + ")";
    out.redirect_to = cfg_->broker.redirect_brokers;
    return out;
  }
  pending.reserved_id = *id;
  rec.id = replace_id != UINT32_MAX ? replace_id : *id;

  try {
    auto alloc = allocate_locked(who, req, pending, now);
    if (auto* err = std::get_if<std::pair<Status, std::string>>(&alloc)) {
      for (const auto& [pool_name, block] : pending.temporary_blocks)
        if (auto* p = pool_locked(pool_name)) p->release(block, now);
      free_id_locked(*id);
      ++counters_.refused;
      out.status = err->first;
      out.reason = err->second;
      if (out.status == Status::NoMoreTunnels && !cfg_->broker.redirect_brokers.empty()) {
        out.status = Status::Redirect;
        out.redirect_to = cfg_->broker.redirect_brokers;
      }
      return out;
    }
    const auto& a = std::get<Allocation>(alloc);
    rec.client_v6 = a.client_v6.addr;
    rec.prefix = a.prefix;
    rec.prefix_pool = a.prefix_pool;
  } catch (const store::StoreError& e) {
    for (const auto& [pool_name, block] : pending.temporary_blocks)
      if (auto* p = pool_locked(pool_name)) p->release(block, now);
    free_id_locked(*id);
    ++counters_.refused;
    out.status = Status::ServerError;
    out.reason = e.what();
    return out;
  }

  auto& offer = out.offer;
  offer.type = std::string(to_string(mode));
  offer.lifetime = server.lifetime;
  offer.server_v4 = server.address;
  offer.server_v6 = server.ipv6_address;
  offer.client_v4 = rec.client_v4;
  offer.client_v6 = rec.client_v6;
  offer.dns_server = server.dns_server;
  offer.prefix = rec.prefix;
  offer.keepalive_interval = rec.keepalive_interval;
  offer.keepalive_address = server.ipv6_address;
  ++counters_.offers;
  if (who.anonymous()) {
    anonymous_quota_.offered(peer.addr.value);
    pending.anonymous_address = peer.addr.value;
  }
  out.pending = std::move(pending);
  return out;
}

std::optional<LiveTunnel> TunnelService::commit(PendingTunnel& pending, int64_t now) {
  std::lock_guard lock(mu_);
  auto rec = pending.record;
  rec.created_at = now;
  rec.last_seen = now;
  // A registered user has one tunnel: the new one takes the old one's slot, so the dataplane
  // switches over in one RCU publication.
  std::optional<uint32_t> replaced;
  if (!rec.anonymous) {
    if (auto it = by_user_.find(rec.user); it != by_user_.end()) replaced = it->second;
  }
  auto give_up = [&] {
    for (const auto& [pool_name, block] : pending.temporary_blocks)
      if (auto* p = pool_locked(pool_name)) p->release(block, now);
    free_id_locked(pending.reserved_id);
    pending.temporary_blocks.clear();
    withdraw_offer_locked(pending);
    return std::nullopt;
  };
  // reconfigure() guards the pools of live tunnels only: a reload may have removed or remade
  // the pool an offer's addresses came from while it awaited its accept. Such an offer is
  // withdrawn (the client asks again and gets addresses of the pools in force), rather than
  // putting live a tunnel whose addresses no pool accounts for.
  if (const auto stale = stale_pool_locked(rec)) {
    spdlog::warn("tunnel offer for {} withdrawn at its accept: pool '{}' was removed or changed by a reload",
                 rec.client_v6.to_string(), *stale);
    return give_up();
  }
  if (!replaced && pending.reserved_id == kNoSlot) {
    // The user's old tunnel went away since the offer: a slot of its own is needed now.
    auto id = reserve_id_locked();
    if (!id) return give_up();
    pending.reserved_id = *id;
  }
  std::optional<uint32_t> evicted;  // another tunnel on the same outer key
  {
    auto probe = rec;
    probe.id = replaced.value_or(pending.reserved_id);
    if (auto other = conflicting_tunnel_locked(probe)) {
      if (!may_replace_locked(live_.at(*other), probe)) {
        spdlog::warn("tunnel for {} not committed: {} is now used by another tunnel",
                     rec.anonymous ? "anonymous" : rec.user, rec.client_v4.to_string());
        return give_up();
      }
      evicted = other;
    }
  }
  rec.id = replaced.value_or(pending.reserved_id);
  try {
    store_.transaction([&](store::Store& s) {
      if (evicted) s.delete_tunnel(*evicted);
      s.save_tunnel(rec);
    });
  } catch (const store::StoreError& e) {
    spdlog::error("tunnel not committed: {}", e.what());
    return give_up();
  }
  if (replaced) free_id_locked(pending.reserved_id);
  if (evicted && *evicted != rec.id) {
    drop_locked(*evicted, now, store::TunnelEnd::Evicted, false);
    ++counters_.replaced;
  }
  if (replaced) {
    unindex_locked(live_.at(*replaced));
    ++counters_.replaced;
  }
  if (!table_.upsert(entry_for(rec))) {
    // Cannot happen while the service's indexes mirror the table; keep the store consistent.
    spdlog::error("tunnel {} refused by the dataplane table", rec.id);
    store_.delete_tunnel(rec.id);
    if (history_) history_->ended(rec.id, now, store::TunnelEnd::Failed);
    pending.temporary_blocks.clear();
    release_temporary_locked(rec, now);
    if (!replaced) free_id_locked(rec.id);
    withdraw_offer_locked(pending);
    return std::nullopt;
  }
  table_.stamp_last_seen(rec.id, static_cast<uint64_t>(now));
  index_locked(rec);
  // An evicted tunnel's end went with drop_locked; this start ends the record of the tunnel
  // it replaced in this id.
  if (history_) history_->started(rec);
  if (pending.anonymous_address) anonymous_quota_.offer_live(rec.id, *pending.anonymous_address);
  pending.anonymous_address.reset();
  // A reload may have made the pool anew while this offer waited: mark the block used there.
  for (const auto& [pool_name, block] : pending.temporary_blocks)
    if (auto* p = pool_locked(pool_name)) p->claim(block);
  pending.temporary_blocks.clear();  // owned by the live tunnel now
  ++counters_.commits;
  const LiveTunnel live{rec.id, ++last_commit_serial_};
  commit_serial_by_id_[rec.id] = live.commit_serial;
  return live;
}

uint64_t TunnelService::watch_gone(std::function<void(const LiveTunnel&)> f) {
  std::lock_guard lock(mu_);
  gone_watchers_.emplace(++last_watch_handle_, std::move(f));
  return last_watch_handle_;
}

void TunnelService::unwatch_gone(uint64_t handle) {
  std::lock_guard lock(mu_);
  gone_watchers_.erase(handle);
}

uint64_t TunnelService::watch_users_removed(std::function<void(const std::string&)> f) {
  std::lock_guard lock(mu_);
  user_watchers_.emplace(++last_watch_handle_, std::move(f));
  return last_watch_handle_;
}

void TunnelService::unwatch_users_removed(uint64_t handle) {
  std::lock_guard lock(mu_);
  user_watchers_.erase(handle);
}

bool TunnelService::is_live(const LiveTunnel& tunnel) const {
  std::lock_guard lock(mu_);
  const auto it = commit_serial_by_id_.find(tunnel.id);
  return it != commit_serial_by_id_.end() && it->second == tunnel.commit_serial;
}

void TunnelService::abandon(PendingTunnel& pending, int64_t now) {
  std::lock_guard lock(mu_);
  for (const auto& [pool_name, block] : pending.temporary_blocks)
    if (auto* p = pool_locked(pool_name)) p->release(block, now);  // never used: no quarantine
  pending.temporary_blocks.clear();
  free_id_locked(pending.reserved_id);
  withdraw_offer_locked(pending);
}

bool TunnelService::kick(uint32_t id, int64_t now) {
  std::lock_guard lock(mu_);
  if (!live_.count(id)) return false;
  drop_locked(id, now, store::TunnelEnd::Kicked);
  return true;
}

bool TunnelService::remove_user(const std::string& user, int64_t now) {
  std::lock_guard lock(mu_);
  if (!store_.find_user(user)) return false;
  if (auto it = by_user_.find(user); it != by_user_.end()) drop_locked(it->second, now, store::TunnelEnd::UserDeleted);
  // The user's stable blocks become anonymous ones: back to their pools after the quarantine.
  const int64_t reusable_at = now + cfg_->tunnel_server().quarantine;
  std::vector<store::AllocationRecord> blocks;
  for (auto& a : store_.load_allocations())
    if (a.user == user) blocks.push_back(std::move(a));
  if (!store_.delete_user(user)) return false;
  for (const auto& a : blocks) {
    if (auto* p = pool_locked(a.pool); p && p->in_use(a.block)) {
      p->release(a.block, reusable_at);
      store_.save_quarantine({a.pool, a.block, reusable_at});
    }
  }
  for (const auto& [handle, watcher] : user_watchers_) watcher(user);
  return true;
}

bool TunnelService::remove_for(const Identity& who, const Peer& peer, int64_t now) {
  std::lock_guard lock(mu_);
  std::optional<uint32_t> id;
  if (!who.anonymous()) {
    if (auto it = by_user_.find(who.user); it != by_user_.end()) id = it->second;
  } else if (auto it = udp_by_endpoint_.find({peer.addr.value, peer.port}); it != udp_by_endpoint_.end()) {
    id = it->second;
  } else if (auto it4 = proto41_by_v4_.find(peer.addr.value); it4 != proto41_by_v4_.end() &&
                                                               live_.at(it4->second).anonymous) {
    id = it4->second;
  }
  if (!id) return false;
  drop_locked(*id, now, store::TunnelEnd::Deleted);
  return true;
}

size_t TunnelService::expire_idle(int64_t now) {
  std::lock_guard lock(mu_);
  std::vector<uint32_t> idle;
  for (auto& [id, rec] : live_) {
    const auto seen = std::max<int64_t>(rec.last_seen, static_cast<int64_t>(table_.last_seen(id)));
    const int64_t limit = int64_t{rec.keepalive_interval ? rec.keepalive_interval : 30} * cfg_->tsp().keepalive_missed;
    if (now - seen > limit) idle.push_back(id);
  }
  for (auto id : idle) {
    const auto& rec = live_.at(id);
    spdlog::info("tunnel {} expired: {} {} silent for {} keepalive intervals", id,
                 rec.anonymous ? "anonymous" : rec.user, rec.client_v6.to_string(), cfg_->tsp().keepalive_missed);
    drop_locked(id, now, store::TunnelEnd::Expired);
    ++counters_.expired;
  }
  return idle.size();
}

void TunnelService::note_udp_activity(Ipv4Addr addr, uint16_t port, int64_t now) {
  std::lock_guard lock(mu_);
  if (auto it = udp_by_endpoint_.find({addr.value, port}); it != udp_by_endpoint_.end())
    table_.stamp_last_seen(it->second, static_cast<uint64_t>(now));
}

}  // namespace tsp
