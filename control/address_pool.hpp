// A named pool of equal-sized blocks (/128 endpoints, /64 or /48 prefixes) carved out of one
// range, as the Migration Broker's `ipv6 local pool NAME PREFIX LEN`.
//
// Blocks are numbered 0..capacity-1 inside the range. New blocks come from a high-water mark
// (never-used blocks first), then from released blocks whose quarantine has ended, oldest
// first, so a released prefix is not handed to somebody else while traffic for the old owner
// may still be in flight or cached in DNS. Not thread-safe: the tunnel service serialises.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "shared/net_types.hpp"

namespace tsp {

class AddressPool {
 public:
  // Capacity is capped at 2^40 blocks: enough for any deployment, keeps counters in range.
  AddressPool(std::string name, Ipv6Prefix range, unsigned block_len);

  const std::string& name() const { return name_; }
  const Ipv6Prefix& range() const { return range_; }
  unsigned block_len() const { return block_len_; }

  // Marks a block as never to be handed out (subnet-router anycast, our own address).
  void reserve(const Ipv6Prefix& block);
  // Takes the next free block, or nullopt when the pool is exhausted.
  std::optional<Ipv6Prefix> allocate(int64_t now);
  // Takes a specific block (reloading state from the store). False if it is outside the
  // range, of the wrong length, or already taken.
  bool claim(const Ipv6Prefix& block);
  // Gives a block back; it becomes allocatable again at `reusable_at` (unix seconds).
  void release(const Ipv6Prefix& block, int64_t reusable_at);
  // Returns a quarantined block to use (used by a store reload: it is not free before `until`).
  void quarantine(const Ipv6Prefix& block, int64_t until);
  bool contains(const Ipv6Prefix& block) const;
  bool in_use(const Ipv6Prefix& block) const;

  uint64_t capacity() const { return capacity_; }
  uint64_t used() const { return used_.size(); }
  uint64_t quarantined() const { return quarantine_.size(); }
  uint64_t free() const { return capacity_ - used_.size() - quarantine_.size() - reserved_.size(); }

 private:
  std::optional<uint64_t> index_of(const Ipv6Prefix& block) const;
  bool taken(uint64_t index) const;

  std::string name_;
  Ipv6Prefix range_;
  unsigned block_len_;
  uint64_t capacity_;
  uint64_t next_fresh_ = 0;                // blocks below this were handed out at least once
  std::set<uint64_t> used_;
  std::set<uint64_t> reserved_;
  std::map<uint64_t, int64_t> quarantine_;  // index -> reusable at
  std::deque<uint64_t> released_order_;     // quarantine entries, oldest first (may hold stale ones)
};

}  // namespace tsp
