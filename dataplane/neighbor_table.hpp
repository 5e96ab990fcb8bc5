// Next-hop MAC addresses learned from ARP and neighbor discovery, shared by every worker with
// no lock. Fixed capacity, open addressing with linear probing, no deletion: an entry lives
// for the process and is refreshed whenever its neighbor speaks again.
//
// A slot is claimed by one CAS on its tag (empty -> claiming), its key written, then the tag
// published with the key's hash (release). Readers skip slots still being claimed, so two
// workers learning the same new neighbor at the same instant may each claim a slot; lookups
// then always find the first one, and the other is only a wasted slot.
#pragma once

#include <rte_ether.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

#include "shared/net_types.hpp"

namespace tsp::dp {

// An IPv4 next hop is kept as its IPv4-mapped IPv6 address (::ffff:a.b.c.d), so one table
// holds both sides without the two ever colliding.
struct NeighborKey {
  uint64_t hi = 0, lo = 0;  // the 16 address bytes, big-endian halves

  static NeighborKey ipv4(Ipv4Addr addr) noexcept;
  static NeighborKey ipv6(const uint8_t (&addr)[16]) noexcept;
  static NeighborKey ipv6(const Ipv6Addr& addr) noexcept;
  friend bool operator==(const NeighborKey&, const NeighborKey&) = default;
};

class NeighborTable {
 public:
  static constexpr uint32_t kDefaultCapacity = 4096;
  static constexpr uint32_t kMaxCapacity = 1u << 20;

  // Throws std::invalid_argument unless capacity is a power of two in [2, kMaxCapacity].
  explicit NeighborTable(uint32_t capacity = kDefaultCapacity);
  ~NeighborTable();
  NeighborTable(const NeighborTable&) = delete;
  NeighborTable& operator=(const NeighborTable&) = delete;

  // Records or refreshes the MAC of a neighbor. False (and learn_failures() counts it) when
  // the table is full.
  bool learn(const NeighborKey& key, const rte_ether_addr& mac) noexcept;

  // The neighbor's MAC, or nullopt while it is unknown.
  std::optional<rte_ether_addr> lookup(const NeighborKey& key) const noexcept;

  // Rate limit for ARP requests and neighbor solicitations: true for exactly one caller per
  // neighbor per value of `now_s` (seconds), who then sends the request. Creates the entry
  // (without a MAC) if needed; false when the table is full.
  bool claim_request(const NeighborKey& key, uint64_t now_s) noexcept;

  uint32_t capacity() const noexcept { return mask_ + 1; }
  uint32_t size() const noexcept { return used_.load(std::memory_order_relaxed); }
  // learn() and claim_request() calls refused because the table was full.
  uint64_t learn_failures() const noexcept { return learn_failures_.load(std::memory_order_relaxed); }

 private:
  struct Slot;

  // The slot holding `key`, or nullptr. With `insert`, claims an empty slot for it instead
  // (nullptr only when the table is full).
  Slot* find(const NeighborKey& key, bool insert) const noexcept;

  const uint32_t mask_;
  std::unique_ptr<Slot[]> slots_;
  mutable std::atomic<uint32_t> used_{0};  // bumped by find() when it claims a slot
  std::atomic<uint64_t> learn_failures_{0};
};

}  // namespace tsp::dp
