#include "dataplane/neighbor_table.hpp"

#include <cstring>
#include <stdexcept>
#include <string>

#include "dataplane/addr_match.hpp"  // load_be64

namespace tsp::dp {

namespace {

constexpr uint64_t kEmpty = 0;
constexpr uint64_t kClaiming = 1;
constexpr uint64_t kPublished = 1ull << 63;  // set in every published tag, never in kClaiming
constexpr uint64_t kMacValid = 1ull << 48;
// Linear probing at the load factors this table sees ends within a few slots; the cap bounds
// the cost of a miss in a table somebody filled up on purpose.
constexpr uint32_t kMaxProbes = 64;

uint64_t mix(const NeighborKey& key) noexcept {
  uint64_t h = (key.hi * 0x9E3779B97F4A7C15ull) ^ key.lo;
  h = (h ^ (h >> 32)) * 0xD6E8FEB86659FD93ull;
  return h ^ (h >> 29);
}

uint64_t pack_mac(const rte_ether_addr& mac) noexcept {
  uint64_t word = 0;
  std::memcpy(&word, mac.addr_bytes, RTE_ETHER_ADDR_LEN);
  return word | kMacValid;
}

}  // namespace

struct alignas(64) NeighborTable::Slot {
  std::atomic<uint64_t> tag{kEmpty};
  std::atomic<uint64_t> key_hi{0}, key_lo{0};  // written before the tag is published
  std::atomic<uint64_t> mac{0};                // the 6 MAC bytes, plus kMacValid once known
  std::atomic<uint64_t> request_stamp{0};      // 1 + the second of the last ARP/NS sent
};

NeighborKey NeighborKey::ipv4(Ipv4Addr addr) noexcept {
  return NeighborKey{0, 0x0000FFFF00000000ull | addr.value};
}

NeighborKey NeighborKey::ipv6(const uint8_t (&addr)[16]) noexcept {
  return NeighborKey{load_be64(addr), load_be64(addr + 8)};
}

NeighborKey NeighborKey::ipv6(const Ipv6Addr& addr) noexcept {
  return NeighborKey{load_be64(addr.bytes.data()), load_be64(addr.bytes.data() + 8)};
}

NeighborTable::NeighborTable(uint32_t capacity) : mask_(capacity - 1) {
  if (capacity < 2 || capacity > kMaxCapacity || (capacity & (capacity - 1)) != 0) {
    throw std::invalid_argument("NeighborTable: capacity must be a power of two in [2, " +
                                std::to_string(kMaxCapacity) + "], got " + std::to_string(capacity));
  }
  slots_ = std::make_unique<Slot[]>(capacity);
}

NeighborTable::~NeighborTable() = default;

NeighborTable::Slot* NeighborTable::find(const NeighborKey& key, bool insert) const noexcept {
  const uint64_t hash = mix(key);
  const uint64_t tag = hash | kPublished;
  const uint32_t probes = mask_ + 1 < kMaxProbes ? mask_ + 1 : kMaxProbes;
  uint32_t index = static_cast<uint32_t>(hash) & mask_;
  for (uint32_t i = 0; i < probes; ++i, index = (index + 1) & mask_) {
    Slot& slot = slots_[index];
    uint64_t seen = slot.tag.load(std::memory_order_acquire);
    if (seen == kEmpty) {
      if (!insert) return nullptr;
      if (slot.tag.compare_exchange_strong(seen, kClaiming, std::memory_order_acq_rel)) {
        slot.key_hi.store(key.hi, std::memory_order_relaxed);
        slot.key_lo.store(key.lo, std::memory_order_relaxed);
        slot.tag.store(tag, std::memory_order_release);
        used_.fetch_add(1, std::memory_order_relaxed);
        return &slot;
      }
      // Another worker claimed it first: `seen` now holds its tag, examine it below.
    }
    if (seen == tag && slot.key_hi.load(std::memory_order_relaxed) == key.hi &&
        slot.key_lo.load(std::memory_order_relaxed) == key.lo) {
      return &slot;
    }
  }
  return nullptr;
}

bool NeighborTable::learn(const NeighborKey& key, const rte_ether_addr& mac) noexcept {
  Slot* slot = find(key, true);
  if (slot == nullptr) {
    learn_failures_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  const uint64_t word = pack_mac(mac);
  // Refreshing an unchanged MAC must not dirty a line every worker reads.
  if (slot->mac.load(std::memory_order_relaxed) != word) slot->mac.store(word, std::memory_order_relaxed);
  return true;
}

std::optional<rte_ether_addr> NeighborTable::lookup(const NeighborKey& key) const noexcept {
  const Slot* slot = find(key, false);
  if (slot == nullptr) return std::nullopt;
  const uint64_t word = slot->mac.load(std::memory_order_relaxed);
  if ((word & kMacValid) == 0) return std::nullopt;
  rte_ether_addr mac;
  std::memcpy(mac.addr_bytes, &word, RTE_ETHER_ADDR_LEN);
  return mac;
}

bool NeighborTable::claim_request(const NeighborKey& key, uint64_t now_s) noexcept {
  Slot* slot = find(key, true);
  if (slot == nullptr) {
    learn_failures_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  const uint64_t stamp = now_s + 1;  // 0 stays "never sent", even at now_s == 0
  uint64_t last = slot->request_stamp.load(std::memory_order_relaxed);
  // Workers refresh `now` at slightly different moments: a later stamp also counts as sent.
  if (last >= stamp) return false;
  return slot->request_stamp.compare_exchange_strong(last, stamp, std::memory_order_relaxed);
}

}  // namespace tsp::dp
