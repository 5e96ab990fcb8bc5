// How many anonymous tunnels each client IPv4 address holds, offered or live, for the
// `limit anonymous per-address` statement. ANONYMOUS costs a client nothing, and a v6udpv4
// tunnel is keyed by address and port: without a count per address, one host opening UDP
// ports could take every slot of the tunnel table and every address of the endpoint pool.
//
// An offer counts from prepare() until it is abandoned or goes live; a live tunnel until it
// goes. The address counted is the one the request came from (a proxy request names another
// box's); a tunnel reloaded from the store counts against its endpoint, the only address the
// store keeps. Not thread-safe: TunnelService calls it under its mutex.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>

namespace tsp {

class AnonymousQuota {
 public:
  // Whether `addr` may have one more (limit 0: no limit).
  bool has_room(uint32_t addr, uint32_t limit) const { return limit == 0 || held_by(addr) < limit; }
  uint32_t held_by(uint32_t addr) const {
    const auto it = by_address_.find(addr);
    return it == by_address_.end() ? 0 : it->second;
  }
  // The address live tunnel `id` counts against, if it is an anonymous one.
  std::optional<uint32_t> address_of(uint32_t id) const {
    const auto it = address_of_.find(id);
    if (it == address_of_.end()) return std::nullopt;
    return it->second;
  }

  void offered(uint32_t addr) { ++by_address_[addr]; }
  void offer_withdrawn(uint32_t addr) { take(addr); }
  // A counted offer went live as tunnel `id`.
  void offer_live(uint32_t id, uint32_t addr) { address_of_[id] = addr; }
  // A tunnel reloaded from the store: counted now.
  void reloaded(uint32_t id, uint32_t addr) {
    offered(addr);
    offer_live(id, addr);
  }
  // Tunnel `id` stopped forwarding (nothing if it was not counted).
  void gone(uint32_t id) {
    const auto it = address_of_.find(id);
    if (it == address_of_.end()) return;
    take(it->second);
    address_of_.erase(it);
  }

  size_t addresses() const { return by_address_.size(); }
  // Every address holding some, and how many.
  template <typename F>
  void for_each(F f) const {
    for (const auto& [addr, n] : by_address_) f(addr, n);
  }

 private:
  void take(uint32_t addr) {
    const auto it = by_address_.find(addr);
    if (it == by_address_.end()) return;
    if (--it->second == 0) by_address_.erase(it);
  }

  std::unordered_map<uint32_t, uint32_t> by_address_;  // only addresses holding some
  std::unordered_map<uint32_t, uint32_t> address_of_;  // live anonymous tunnel id -> its address
};

}  // namespace tsp
