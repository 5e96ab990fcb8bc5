#include "control/address_pool.hpp"

#include <algorithm>

namespace tsp {

AddressPool::AddressPool(std::string name, Ipv6Prefix range, unsigned block_len)
    : name_(std::move(name)), range_(range), block_len_(block_len) {
  const unsigned bits = block_len > range.len ? block_len - range.len : 0;
  capacity_ = bits >= 40 ? (uint64_t{1} << 40) : (uint64_t{1} << bits);
}

std::optional<uint64_t> AddressPool::index_of(const Ipv6Prefix& block) const {
  if (block.len != block_len_ || !range_.contains(block)) return std::nullopt;
  const uint64_t i = subprefix_index(range_, block);
  if (i >= capacity_) return std::nullopt;
  return i;
}

bool AddressPool::taken(uint64_t i) const {
  return used_.count(i) || reserved_.count(i) || quarantine_.count(i);
}

bool AddressPool::contains(const Ipv6Prefix& block) const { return index_of(block).has_value(); }

bool AddressPool::in_use(const Ipv6Prefix& block) const {
  auto i = index_of(block);
  return i && used_.count(*i);
}

void AddressPool::reserve(const Ipv6Prefix& block) {
  if (auto i = index_of(block)) {
    used_.erase(*i);
    quarantine_.erase(*i);
    reserved_.insert(*i);
  }
}

std::optional<Ipv6Prefix> AddressPool::allocate(int64_t now) {
  while (next_fresh_ < capacity_) {
    const uint64_t i = next_fresh_++;
    if (!taken(i)) {
      used_.insert(i);
      return nth_subprefix(range_, block_len_, i);
    }
  }
  // Fresh blocks are gone: reuse the oldest released block whose quarantine is over. Blocks
  // released without quarantine (offers never accepted) may sit behind quarantined ones, so
  // look past the front.
  for (auto pos = released_order_.begin(); pos != released_order_.end();) {
    auto q = quarantine_.find(*pos);
    if (q == quarantine_.end()) {  // stale: reclaimed or reserved since
      pos = released_order_.erase(pos);
      continue;
    }
    if (q->second > now) {
      ++pos;
      continue;
    }
    const uint64_t i = *pos;
    released_order_.erase(pos);
    quarantine_.erase(q);
    used_.insert(i);
    return nth_subprefix(range_, block_len_, i);
  }
  return std::nullopt;
}

bool AddressPool::claim(const Ipv6Prefix& block) {
  auto i = index_of(block);
  if (!i || used_.count(*i) || reserved_.count(*i)) return false;
  quarantine_.erase(*i);
  used_.insert(*i);
  return true;
}

void AddressPool::release(const Ipv6Prefix& block, int64_t reusable_at) {
  auto i = index_of(block);
  if (!i || !used_.erase(*i)) return;
  quarantine(block, reusable_at);
}

void AddressPool::quarantine(const Ipv6Prefix& block, int64_t until) {
  auto i = index_of(block);
  if (!i || used_.count(*i) || reserved_.count(*i)) return;
  if (quarantine_.emplace(*i, until).second) released_order_.push_back(*i);
}

}  // namespace tsp
