#include "shared/tunnel_table.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <new>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>

#include "shared/rcu.hpp"

namespace tsp {

// An IPv6 address as two big-endian numbers, so prefix masks are plain shifts.
struct table_detail::V6Words {
  uint64_t hi, lo;
  friend bool operator==(V6Words, V6Words) = default;
};

namespace {

// Anything a reader could mistake for a live entry fails its checks: the id is >= any capacity
// and the mode is neither V6V4 nor V6UDPV4, in the entry and in the node's decap key alike.
constexpr unsigned char kPoisonByte = 0xDB;

uint32_t checked_capacity(uint32_t capacity) {
  if (capacity == 0 || capacity > TunnelTable::kMaxCapacity) {
    throw std::invalid_argument("TunnelTable capacity must be in 1.." +
                                std::to_string(TunnelTable::kMaxCapacity) + ", got " + std::to_string(capacity));
  }
  return capacity;
}

// Bits of the site filter: 8 per tunnel of capacity (a few % false "maybe" when every tunnel
// has a /48 of its own), within [2^12, 2^27].
uint64_t site_filter_bits(uint32_t capacity) {
  return std::clamp<uint64_t>(8 * std::bit_ceil(uint64_t{capacity}), uint64_t{1} << 12, uint64_t{1} << 27);
}

constexpr uint8_t kSiteCountStuck = 0xFF;

uint64_t random_seed() {
  std::random_device rd;
  return (uint64_t{rd()} << 32) ^ rd();
}

using table_detail::V6Words;

inline uint64_t load_be64(const uint8_t* p) noexcept {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  return v;
}

inline V6Words words_of(const Ipv6Addr& a) noexcept {
  return {load_be64(a.bytes.data()), load_be64(a.bytes.data() + 8)};
}

// len in 1..128 (the shifts below are undefined for 0).
inline V6Words masked(V6Words w, unsigned len) noexcept {
  if (len <= 64) return {w.hi & (~uint64_t{0} << (64 - len)), 0};
  return {w.hi, w.lo & (~uint64_t{0} << (128 - len))};
}

using table_detail::mix64;

// One mix per probe: multiplying by an odd constant is a bijection that spreads the low word
// over all 64 bits before it meets the high word, so addresses that differ only in their
// interface identifier (or prefixes only in their length) still hash apart.
constexpr uint64_t kOddLo = 0x9e3779b97f4a7c15ULL;
constexpr uint64_t kOddLen = 0xc2b2ae3d27d4eb4fULL;

inline uint64_t v6_hash(uint64_t seed, V6Words w) noexcept { return mix64(w.hi ^ seed ^ (w.lo * kOddLo)); }

inline uint64_t prefix_hash(uint64_t seed, V6Words w, unsigned len) noexcept {
  return mix64(w.hi ^ seed ^ (w.lo * kOddLo) ^ (len * kOddLen));
}

bool valid_mode(TunnelMode m) { return m == TunnelMode::V6V4 || m == TunnelMode::V6UDPV4; }

}  // namespace

std::string_view to_string(UpsertResult r) {
  switch (r) {
    case UpsertResult::Ok: return "ok";
    case UpsertResult::IdOutOfRange: return "tunnel id out of range";
    case UpsertResult::InvalidEntry: return "invalid tunnel entry";
    case UpsertResult::DecapKeyTaken: return "outer address (and port) used by another tunnel";
    case UpsertResult::ClientV6Taken: return "client IPv6 address used by another tunnel";
    case UpsertResult::PrefixTaken: return "delegated prefix used by another tunnel";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------------------------
// Construction and teardown

TunnelTable::TunnelTable(uint32_t capacity)
    : capacity_(checked_capacity(capacity)),
      bucket_mask_(std::bit_ceil(capacity) - 1),
      hash_seed_(random_seed()),
      site_salt_(hash_seed_ * kOddLen),
      by_id_(std::make_unique<std::atomic<Node*>[]>(capacity)),
      site_mask_(site_filter_bits(capacity) - 1),
      site_shift_(64 - static_cast<unsigned>(std::countr_zero(site_mask_ + 1))),
      site_words_(std::make_unique<std::atomic<uint64_t>[]>((site_mask_ + 1) / 64)),
      site_counts_(std::make_unique<uint8_t[]>(site_mask_ + 1)),
      last_seen_(std::make_unique<std::atomic<uint64_t>[]>(capacity)) {
  static_assert(sizeof(Node) == 128, "two cache lines per tunnel");
  for (auto& heads : heads_) heads = std::make_unique<std::atomic<BucketWord>[]>(bucket_mask_ + 1);
  reclaimer_ = std::thread([this] { reclaimer_loop(); });
}

TunnelTable::~TunnelTable() {
  {
    std::lock_guard lock(reclaim_mutex_);
    stopping_ = true;
  }
  reclaim_wakeup_.notify_all();
  // The reclaimer waits for a grace period; an online caller must not hold it up.
  RcuOfflineScope offline;
  reclaimer_.join();
  rcu_synchronize();  // lookups that returned just before teardown
  for (uint32_t id = 0; id < capacity_; ++id) {
    if (Node* node = by_id_[id].load(std::memory_order_relaxed)) poison_and_free(node);
  }
}

void TunnelTable::poison_and_free(Node* node) noexcept {
  // volatile, so the compiler cannot drop the stores as dead before the delete.
  auto* bytes = reinterpret_cast<volatile unsigned char*>(&node->entry);
  for (size_t i = 0; i < sizeof(TunnelEntry); ++i) bytes[i] = kPoisonByte;
  auto* key = reinterpret_cast<volatile unsigned char*>(&node->decap_key);
  for (size_t i = 0; i < sizeof node->decap_key; ++i) key[i] = kPoisonByte;
  delete node;
}

// ---------------------------------------------------------------------------------------------
// Keys

bool TunnelTable::indexed(Index index, const TunnelEntry& e) noexcept {
  return index != kPrefix || e.has_prefix();
}

bool TunnelTable::same_key(Index index, const TunnelEntry& a, const TunnelEntry& b) noexcept {
  switch (index) {
    case kDecap:
      return a.mode == b.mode && a.client_v4 == b.client_v4 &&
             (a.mode == TunnelMode::V6V4 || a.client_port == b.client_port);
    case kClientV6: return a.client_v6 == b.client_v6;
    default: return a.prefix_len == b.prefix_len && a.prefix == b.prefix;
  }
}

uint64_t TunnelTable::hash_of(Index index, const TunnelEntry& e) const noexcept {
  switch (index) {
    case kDecap: return mix64(decap_key_of(e) ^ hash_seed_);  // as probe_decap hashes it
    case kClientV6: return v6_hash(hash_seed_, words_of(e.client_v6));
    default: return prefix_hash(hash_seed_, words_of(e.prefix), e.prefix_len);
  }
}

// ---------------------------------------------------------------------------------------------
// Writer side

UpsertResult TunnelTable::check_upsert(const TunnelEntry& e) const {
  if (e.id >= capacity_) return UpsertResult::IdOutOfRange;
  if (!valid_mode(e.mode) || e.mtu < kMinTunnelMtu || e.prefix_len > 128 ||
      !(e.prefix == e.prefix.masked(e.prefix_len)) || e.client_v6.is_unspecified()) {
    return UpsertResult::InvalidEntry;
  }
  constexpr UpsertResult kTaken[kIndexCount] = {UpsertResult::DecapKeyTaken, UpsertResult::ClientV6Taken,
                                                UpsertResult::PrefixTaken};
  for (Index index : {kDecap, kClientV6, kPrefix}) {
    if (!indexed(index, e)) continue;
    const Node* holder = find_writer(index, e);
    if (holder && holder->entry.id != e.id) return kTaken[index];
  }
  return UpsertResult::Ok;
}

const TunnelTable::Node* TunnelTable::find_writer(Index index, const TunnelEntry& key) const {
  for (const Node* n = chain_of(bucket(index, hash_of(index, key)).load(std::memory_order_relaxed)); n;
       n = n->next[index].load(std::memory_order_relaxed)) {
    if (same_key(index, n->entry, key)) return n;
  }
  return nullptr;
}

TunnelTable::BucketWord TunnelTable::summary_of_chain(Index index, const Node* first) const noexcept {
  BucketWord summary = 0;
  for (const Node* n = first; n; n = n->next[index].load(std::memory_order_relaxed)) {
    summary |= tag_bit(hash_of(index, n->entry));
  }
  return summary;
}

// New nodes go to the head of their chain: one release store publishes the node, its entry
// and its tag in the summary.
void TunnelTable::link(Index index, Node* node) {
  const uint64_t hash = hash_of(index, node->entry);
  std::atomic<BucketWord>& head = bucket(index, hash);
  const BucketWord word = head.load(std::memory_order_relaxed);
  node->next[index].store(chain_of(word), std::memory_order_relaxed);
  head.store((word & ~kChainMask) | tag_bit(hash) | reinterpret_cast<BucketWord>(node), std::memory_order_release);
}

// The unlinked node keeps its own `next`, so a reader standing on it walks on to live nodes.
// The summary is rebuilt from what is left; a reader that still sees the old one only walks
// the chain for nothing.
void TunnelTable::unlink(Index index, Node* node) {
  std::atomic<BucketWord>& head = bucket(index, hash_of(index, node->entry));
  Node* first = chain_of(head.load(std::memory_order_relaxed));
  Node* const after = node->next[index].load(std::memory_order_relaxed);
  if (first == node) {
    first = after;
  } else {
    for (Node* n = first; n; n = n->next[index].load(std::memory_order_relaxed)) {
      if (n->next[index].load(std::memory_order_relaxed) == node) {
        n->next[index].store(after, std::memory_order_release);
        break;
      }
    }
  }
  head.store(summary_of_chain(index, first) | reinterpret_cast<BucketWord>(first), std::memory_order_release);
}

// Same key, new version: a reader on this chain sees exactly one of the two, never neither.
// The key, hence the tag and the summary, is the same.
void TunnelTable::swap_in_place(Index index, Node* old_node, Node* new_node) {
  std::atomic<BucketWord>& head = bucket(index, hash_of(index, old_node->entry));
  new_node->next[index].store(old_node->next[index].load(std::memory_order_relaxed), std::memory_order_relaxed);
  const BucketWord word = head.load(std::memory_order_relaxed);
  if (chain_of(word) == old_node) {
    head.store((word & ~kChainMask) | reinterpret_cast<BucketWord>(new_node), std::memory_order_release);
    return;
  }
  for (Node* n = chain_of(word); n; n = n->next[index].load(std::memory_order_relaxed)) {
    if (n->next[index].load(std::memory_order_relaxed) == old_node) {
      n->next[index].store(new_node, std::memory_order_release);
      return;
    }
  }
}

// Before an entry's keys become reachable (+1), after they stop being (-1).
void TunnelTable::count_sites(const TunnelEntry& e, int delta) {
  auto count = [&](const Ipv6Addr& a) {
    const uint64_t bit = site_bit(words_of(a).hi);
    uint8_t& n = site_counts_[bit];
    if (n == kSiteCountStuck) return;
    n = static_cast<uint8_t>(n + delta);
    std::atomic<uint64_t>& word = site_words_[bit / 64];
    const uint64_t mask = uint64_t{1} << (bit % 64);
    if (delta > 0 && n == 1) word.fetch_or(mask, std::memory_order_release);
    if (delta < 0 && n == 0) word.fetch_and(~mask, std::memory_order_release);
  };
  count(e.client_v6);
  if (e.prefix_len >= kSiteLen) count(e.prefix);
}

void TunnelTable::count_prefix_length(unsigned len, int delta) {
  uint32_t& count = prefix_length_count_[len];
  count = static_cast<uint32_t>(static_cast<int64_t>(count) + delta);
  std::atomic<uint64_t>& word = prefix_lengths_in_use_[(len - 1) / 64];
  const uint64_t bit = uint64_t{1} << ((len - 1) % 64);
  if (delta > 0 && count == 1) word.fetch_or(bit, std::memory_order_release);
  if (delta < 0 && count == 0) word.fetch_and(~bit, std::memory_order_release);
}

UpsertResult TunnelTable::try_upsert(const TunnelEntry& entry, uint64_t last_seen_if_new) {
  std::lock_guard lock(writer_mutex_);
  if (const UpsertResult r = check_upsert(entry); r != UpsertResult::Ok) return r;
  Node* const old_node = by_id_[entry.id].load(std::memory_order_relaxed);
  Node* const fresh = new Node(entry);  // the only step that can throw; nothing changed yet
  if ((reinterpret_cast<BucketWord>(fresh) & ~kChainMask) != 0) {
    delete fresh;  // an address a bucket word cannot hold (never seen in user space)
    throw std::bad_alloc();
  }

  // Lengths in use grow before the new prefix is reachable and shrink after the old one is not.
  if (fresh->entry.has_prefix()) count_prefix_length(fresh->entry.prefix_len, +1);
  count_sites(fresh->entry, +1);
  for (Index index : {kDecap, kClientV6, kPrefix}) {
    const bool old_in = old_node && indexed(index, old_node->entry);
    const bool new_in = indexed(index, fresh->entry);
    if (old_in && new_in && same_key(index, old_node->entry, fresh->entry)) {
      swap_in_place(index, old_node, fresh);
      continue;
    }
    if (new_in) link(index, fresh);  // the new key works before the old one stops working
    if (old_in) unlink(index, old_node);
  }
  if (old_node && old_node->entry.has_prefix()) count_prefix_length(old_node->entry.prefix_len, -1);
  if (old_node) count_sites(old_node->entry, -1);

  if (!old_node) last_seen_[entry.id].store(last_seen_if_new, std::memory_order_relaxed);
  by_id_[entry.id].store(fresh, std::memory_order_release);
  if (old_node) {
    retire(old_node);
  } else {
    size_.fetch_add(1, std::memory_order_relaxed);
  }
  return UpsertResult::Ok;
}

bool TunnelTable::remove(uint32_t id) {
  std::lock_guard lock(writer_mutex_);
  if (id >= capacity_) return false;
  Node* const node = by_id_[id].load(std::memory_order_relaxed);
  if (!node) return false;
  for (Index index : {kDecap, kClientV6, kPrefix}) {
    if (indexed(index, node->entry)) unlink(index, node);
  }
  if (node->entry.has_prefix()) count_prefix_length(node->entry.prefix_len, -1);
  count_sites(node->entry, -1);
  by_id_[id].store(nullptr, std::memory_order_release);
  last_seen_[id].store(0, std::memory_order_relaxed);
  size_.fetch_sub(1, std::memory_order_relaxed);
  retire(node);
  return true;
}

std::optional<TunnelEntry> TunnelTable::get(uint32_t id) const {
  std::lock_guard lock(writer_mutex_);
  if (id >= capacity_) return std::nullopt;
  const Node* node = by_id_[id].load(std::memory_order_relaxed);
  if (!node) return std::nullopt;
  return node->entry;
}

std::vector<TunnelEntry> TunnelTable::snapshot() const {
  std::lock_guard lock(writer_mutex_);
  std::vector<TunnelEntry> out;
  out.reserve(size());
  for (uint32_t id = 0; id < capacity_; ++id) {
    if (const Node* node = by_id_[id].load(std::memory_order_relaxed)) out.push_back(node->entry);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reclamation

// Intrusive list, so retiring cannot fail after the table has already changed.
void TunnelTable::retire(Node* node) {
  {
    std::lock_guard lock(reclaim_mutex_);
    node->retired_next = retired_head_;
    retired_head_ = node;
    ++retired_total_;
  }
  reclaim_wakeup_.notify_one();
}

// Everything retired during the previous grace period and the pause after it goes in one
// batch. The pause keeps grace periods at most one per kReclaimPause: a worker that reports a
// quiescent state while this thread sleeps on a grace period must wake it (a futex call, and
// in a VM an interrupt to another vCPU); one grace period per update cost the workers ~9 %
// under 10k updates/s. A batch waits longer only when nobody waits for it.
void TunnelTable::reclaimer_loop() {
  constexpr auto kReclaimPause = std::chrono::milliseconds(1);
  std::unique_lock lock(reclaim_mutex_);
  for (;;) {
    reclaim_wakeup_.wait(lock, [this] { return stopping_ || retired_head_ != nullptr; });
    reclaim_wakeup_.wait_for(lock, kReclaimPause, [this] { return stopping_ || reclaim_waiters_ > 0; });
    if (retired_head_ == nullptr) return;  // stopping, and nothing left to free
    Node* batch = std::exchange(retired_head_, nullptr);
    const uint64_t batch_end = retired_total_;
    lock.unlock();
    rcu_synchronize();
    while (batch) poison_and_free(std::exchange(batch, batch->retired_next));
    lock.lock();
    freed_total_ = batch_end;
    ++reclaim_batches_;
    reclaim_done_.notify_all();
  }
}

void TunnelTable::wait_for_reclaim() {
  RcuOfflineScope offline;  // the grace period we wait for must not wait for us
  std::unique_lock lock(reclaim_mutex_);
  const uint64_t target = retired_total_;
  ++reclaim_waiters_;
  reclaim_wakeup_.notify_one();  // no pause for a batch someone waits for
  reclaim_done_.wait(lock, [&] { return freed_total_ >= target; });
  --reclaim_waiters_;
}

uint64_t TunnelTable::reclaim_batches() const {
  std::lock_guard lock(reclaim_mutex_);
  return reclaim_batches_;
}

size_t TunnelTable::awaiting_reclaim() const {
  std::lock_guard lock(reclaim_mutex_);
  return static_cast<size_t>(retired_total_ - freed_total_);
}

// ---------------------------------------------------------------------------------------------
// Reader side: acquire loads pair with the writer's release stores (free on x86).

const TunnelEntry* TunnelTable::find_decap_proto41(Ipv4Addr outer_src) const noexcept {
  const uint64_t key = decap_key(TunnelMode::V6V4, outer_src.value, 0);
  const uint64_t h = mix64(key ^ hash_seed_);
  return decap_match(candidates(bucket(kDecap, h).load(std::memory_order_acquire), h), key);
}

const TunnelEntry* TunnelTable::find_decap_udp(Ipv4Addr outer_src, uint16_t src_port) const noexcept {
  const uint64_t key = decap_key(TunnelMode::V6UDPV4, outer_src.value, src_port);
  const uint64_t h = mix64(key ^ hash_seed_);
  return decap_match(candidates(bucket(kDecap, h).load(std::memory_order_acquire), h), key);
}

const TunnelTable::Node* TunnelTable::find_prefix(uint64_t hi, uint64_t lo, unsigned len) const noexcept {
  const V6Words key{hi, lo};
  const uint64_t h = prefix_hash(hash_seed_, key, len);
  for (const Node* n = candidates(bucket(kPrefix, h).load(std::memory_order_acquire), h); n;
       n = n->next[kPrefix].load(std::memory_order_acquire)) {
    if (n->entry.prefix_len == len && words_of(n->entry.prefix) == key) return n;
  }
  return nullptr;
}

const TunnelEntry* TunnelTable::find_encap(const Ipv6Addr& dst) const noexcept {
  const V6Words w = words_of(dst);
  if (!site_may_hold(w.hi)) return nullptr;
  const uint64_t h = v6_hash(hash_seed_, w);
  for (const Node* n = candidates(bucket(kClientV6, h).load(std::memory_order_acquire), h); n;
       n = n->next[kClientV6].load(std::memory_order_acquire)) {
    if (words_of(n->entry.client_v6) == w) return &n->entry;
  }
  // Longest first: the high word holds lengths 65..128, bit b of word k is length 64k + b + 1.
  for (unsigned word = 2; word-- > 0;) {
    uint64_t lengths = prefix_lengths_in_use_[word].load(std::memory_order_acquire);
    while (lengths) {
      const unsigned bit = 63 - static_cast<unsigned>(std::countl_zero(lengths));
      lengths ^= uint64_t{1} << bit;
      const unsigned len = word * 64 + bit + 1;
      const V6Words m = masked(w, len);
      if (const Node* n = find_prefix(m.hi, m.lo, len)) return &n->entry;
    }
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Bulk lookups: stage by stage over a chunk of keys, so that one key's miss waits beside the
// others' instead of before them.

namespace {
constexpr size_t kBulkChunk = 32;        // keys in flight at once (a burst)
constexpr unsigned kStagedLengths = 4;   // prefix lengths probed in stages; more are probed after
}  // namespace

// The three stages over a chunk of keys.
void TunnelTable::find_decap_keys(const uint64_t* keys, size_t n, const TunnelEntry** out) const noexcept {
  DecapProbe probes[kBulkChunk];
  const Node* first[kBulkChunk];
  for (size_t i = 0; i < n; ++i) probes[i] = probe_decap(keys[i]);
  for (size_t i = 0; i < n; ++i) first[i] = first_candidate(probes[i]);
  for (size_t i = 0; i < n; ++i) out[i] = decap_match(first[i], keys[i]);
}

void TunnelTable::find_decap_bulk(const DecapKey* keys, size_t n, const TunnelEntry** out) const noexcept {
  for (size_t done = 0; done < n; done += kBulkChunk) {
    const size_t chunk = std::min(kBulkChunk, n - done);
    uint64_t packed[kBulkChunk];
    for (size_t i = 0; i < chunk; ++i) {
      const DecapKey& k = keys[done + i];
      packed[i] = decap_key(k.mode, k.outer_src.value, k.mode == TunnelMode::V6UDPV4 ? k.src_port : uint16_t{0});
    }
    find_decap_keys(packed, chunk, out + done);
  }
}

void TunnelTable::find_decap_proto41_bulk(const Ipv4Addr* outer_srcs, size_t n, const TunnelEntry** out) const noexcept {
  for (size_t done = 0; done < n; done += kBulkChunk) {
    const size_t chunk = std::min(kBulkChunk, n - done);
    uint64_t packed[kBulkChunk];
    for (size_t i = 0; i < chunk; ++i) packed[i] = decap_key(TunnelMode::V6V4, outer_srcs[done + i].value, 0);
    find_decap_keys(packed, chunk, out + done);
  }
}

void TunnelTable::find_encap_bulk(const Ipv6Addr* dsts, size_t n, const TunnelEntry** out) const noexcept {
  for (size_t done = 0; done < n; done += kBulkChunk) {
    find_encap_chunk(dsts + done, std::min(kBulkChunk, n - done), out + done);
  }
}

// find_encap for each key, in two rounds of stages: the /128 index for every key, then the (at
// most kStagedLengths) longest prefix lengths in use for the keys still unanswered; any
// shorter lengths one key at a time, as find_encap does. Most destinations are a client's
// /128, so the prefix probes are not hashed for keys that never need them. No site filter
// here: the fast path asks may_find_encap itself before staging a key it expects to miss (a
// source, an inner destination), and a destination to encapsulate toward lies in one of the
// pools' /48s, which the filter always lets through.
void TunnelTable::find_encap_chunk(const Ipv6Addr* dsts, size_t n, const TunnelEntry** out) const noexcept {
  // The prefix lengths in use (read once: the whole chunk is one instant).
  const uint64_t lengths_up_to_64 = prefix_lengths_in_use_[0].load(std::memory_order_acquire);
  const uint64_t lengths_above_64 = prefix_lengths_in_use_[1].load(std::memory_order_acquire);

  // Round 1: the /128 index.
  V6Words words[kBulkChunk];
  uint64_t hashes[kBulkChunk];
  const Node* first[kBulkChunk];
  for (size_t i = 0; i < n; ++i) {
    words[i] = words_of(dsts[i]);
    hashes[i] = v6_hash(hash_seed_, words[i]);
    __builtin_prefetch(&bucket(kClientV6, hashes[i]));
  }
  for (size_t i = 0; i < n; ++i) {
    first[i] = candidates(bucket(kClientV6, hashes[i]).load(std::memory_order_acquire), hashes[i]);
    if (first[i]) prefetch_node(first[i]);
  }
  size_t unanswered[kBulkChunk];  // the keys for round 2, by index
  size_t m = 0;
  for (size_t i = 0; i < n; ++i) {
    out[i] = nullptr;
    for (const Node* node = first[i]; node; node = node->next[kClientV6].load(std::memory_order_acquire)) {
      if (words_of(node->entry.client_v6) == words[i]) {
        out[i] = &node->entry;
        break;
      }
    }
    if (out[i] == nullptr) unanswered[m++] = i;
  }
  if (m == 0 || (lengths_up_to_64 | lengths_above_64) == 0) return;
  find_prefix_chunk(words, unanswered, m, lengths_up_to_64, lengths_above_64, out);
}

// Round 2 of find_encap_chunk: the delegated prefixes holding words[keys[j]], longest first.
void TunnelTable::find_prefix_chunk(const V6Words* words, const size_t* keys, size_t m, uint64_t lengths_up_to_64,
                                    uint64_t lengths_above_64, const TunnelEntry** out) const noexcept {
  unsigned lengths[kStagedLengths];
  unsigned staged = 0;
  uint64_t rest[2] = {lengths_up_to_64, lengths_above_64};
  for (unsigned word = 2; word-- > 0 && staged < kStagedLengths;) {
    while (rest[word] && staged < kStagedLengths) {
      const unsigned bit = 63 - static_cast<unsigned>(std::countl_zero(rest[word]));
      rest[word] ^= uint64_t{1} << bit;
      lengths[staged++] = word * 64 + bit + 1;
    }
  }
  const bool more_lengths = (rest[0] | rest[1]) != 0;
  // Each staged length's mask, worked out once for the chunk rather than per key.
  V6Words masks[kStagedLengths];
  for (unsigned p = 0; p < staged; ++p) masks[p] = masked({~uint64_t{0}, ~uint64_t{0}}, lengths[p]);
  auto apply = [](V6Words w, V6Words mask) { return V6Words{w.hi & mask.hi, w.lo & mask.lo}; };

  uint64_t hashes[kBulkChunk][kStagedLengths];
  const Node* first[kBulkChunk][kStagedLengths];
  for (size_t j = 0; j < m; ++j) {
    for (unsigned p = 0; p < staged; ++p) {
      hashes[j][p] = prefix_hash(hash_seed_, apply(words[keys[j]], masks[p]), lengths[p]);
      __builtin_prefetch(&bucket(kPrefix, hashes[j][p]));
    }
  }
  for (size_t j = 0; j < m; ++j) {
    for (unsigned p = 0; p < staged; ++p) {
      first[j][p] = candidates(bucket(kPrefix, hashes[j][p]).load(std::memory_order_acquire), hashes[j][p]);
      if (first[j][p]) prefetch_node(first[j][p]);
    }
  }
  for (size_t j = 0; j < m; ++j) {
    const size_t i = keys[j];
    for (unsigned p = 0; p < staged && out[i] == nullptr; ++p) {
      const V6Words key = apply(words[i], masks[p]);
      for (const Node* node = first[j][p]; node; node = node->next[kPrefix].load(std::memory_order_acquire)) {
        if (node->entry.prefix_len == lengths[p] && words_of(node->entry.prefix) == key) {
          out[i] = &node->entry;
          break;
        }
      }
    }
    if (out[i] != nullptr || !more_lengths) continue;
    for (unsigned word = 2; word-- > 0 && out[i] == nullptr;) {
      for (uint64_t left = rest[word]; left && out[i] == nullptr;) {
        const unsigned bit = 63 - static_cast<unsigned>(std::countl_zero(left));
        left ^= uint64_t{1} << bit;
        const unsigned len = word * 64 + bit + 1;
        const V6Words mk = masked(words[i], len);
        if (const Node* node = find_prefix(mk.hi, mk.lo, len)) out[i] = &node->entry;
      }
    }
  }
}

size_t TunnelTable::memory_bytes() const noexcept {
  const size_t buckets = static_cast<size_t>(bucket_mask_) + 1;
  return sizeof(*this) + kIndexCount * buckets * sizeof(std::atomic<BucketWord>) +
         static_cast<size_t>(capacity_) * (sizeof(std::atomic<Node*>) + sizeof(std::atomic<uint64_t>)) +
         static_cast<size_t>(site_mask_ + 1) * 9 / 8 +  // site filter: a count byte and a bit each
         size() * sizeof(Node);
}

const TunnelEntry* TunnelTable::find_by_id(uint32_t id) const noexcept {
  if (id >= capacity_) return nullptr;
  const Node* n = by_id_[id].load(std::memory_order_acquire);
  return n ? &n->entry : nullptr;
}

}  // namespace tsp
