// The tunnel table between the planes: the control plane writes, DPDK workers look up with no
// lock, using RCU (liburcu QSBR, see shared/rcu.hpp).
//
// Layout: fixed-size chained hash indexes (never resized), one per lookup key: decap (outer
// IPv4 source, plus UDP port for v6udpv4), the client's /128, and the delegated prefix. Each
// published node is immutable; a replacement is a new node swapped in with one pointer store,
// so a reader sees the old or the new version, never a mix. Unlinked nodes are poisoned and
// freed by the table's reclaimer thread after a grace period, so writers never wait for
// readers.
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "shared/net_types.hpp"
#include "shared/tunnel_entry.hpp"

namespace tsp {

namespace table_detail {
struct V6Words;  // an address as two numbers (tunnel_table.cpp)

// A 64-bit finaliser with full avalanche (the constants of SplitMix64's output function): keys
// differing in one bit land in unrelated buckets, where identity hashing of addresses would
// pile neighbours into a few chains.
[[gnu::always_inline]] inline uint64_t mix64(uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}
}  // namespace table_detail

enum class UpsertResult {
  Ok,
  IdOutOfRange,        // id >= capacity
  InvalidEntry,        // unknown mode, mtu < 1280, prefix_len > 128, host bits in prefix, no client_v6
  DecapKeyTaken,       // another id has this proto-41 client_v4, or this v6udpv4 client_v4 + port
  ClientV6Taken,       // another id has this client_v6
  PrefixTaken,         // another id has this delegated prefix (same address and length)
};

std::string_view to_string(UpsertResult r);

class TunnelTable {
 public:
  static constexpr uint32_t kMaxCapacity = 1u << 24;

  // Reserves every index up front. Throws std::invalid_argument unless 0 < capacity <= kMaxCapacity.
  explicit TunnelTable(uint32_t capacity);
  // Readers must have stopped looking up; waits one grace period for pointers they may still
  // hold, then frees everything. Safe to run on a registered reader thread.
  ~TunnelTable();
  TunnelTable(const TunnelTable&) = delete;
  TunnelTable& operator=(const TunnelTable&) = delete;

  // ---- Writer side (control plane). Any thread; writers are serialised by an internal mutex.
  // Never waits for a grace period.

  // Inserts the entry, or replaces the one with the same id (re-indexing changed keys). On
  // anything but Ok the table is unchanged. `last_seen_if_new` seeds last_seen() when the id
  // was vacant; a replacement keeps the current stamp.
  UpsertResult try_upsert(const TunnelEntry& entry, uint64_t last_seen_if_new = 0);
  bool upsert(const TunnelEntry& entry, uint64_t last_seen_if_new = 0) {
    return try_upsert(entry, last_seen_if_new) == UpsertResult::Ok;
  }
  // False if the id is out of range or vacant.
  bool remove(uint32_t id);

  size_t size() const noexcept { return size_.load(std::memory_order_relaxed); }
  uint32_t capacity() const noexcept { return capacity_; }
  std::optional<TunnelEntry> get(uint32_t id) const;
  std::vector<TunnelEntry> snapshot() const;  // ordered by id

  // Blocks until every entry removed or replaced before the call has been freed (tests,
  // shutdown). Takes a registered reader thread offline while it waits.
  void wait_for_reclaim();
  // Removed or replaced entries not yet freed.
  size_t awaiting_reclaim() const;
  // Grace periods the reclaimer has waited for: at most one per millisecond, however many
  // entries it frees (each costs every worker a little).
  uint64_t reclaim_batches() const;

  // ---- Reader side (fast path). The caller is a registered, online QSBR reader. No locks,
  // no allocation. A returned pointer stays valid until the caller's next quiescent state.

  // Only V6V4 entries.
  const TunnelEntry* find_decap_proto41(Ipv4Addr outer_src) const noexcept;
  // Only V6UDPV4 entries.
  const TunnelEntry* find_decap_udp(Ipv4Addr outer_src, uint16_t src_port) const noexcept;
  // The entry whose client_v6 == dst, else the one whose delegated prefix holds dst, longest
  // prefix first. Probes only the prefix lengths in use.
  const TunnelEntry* find_encap(const Ipv6Addr& dst) const noexcept;
  // nullptr if out of range or vacant.
  const TunnelEntry* find_by_id(uint32_t id) const noexcept;

  // ---- Bulk lookups (fast path, same rules as above): the answers of the single lookups for
  // a burst of keys. All hashes first, then every bucket's line is prefetched, then every
  // first node's, then the chains are walked, so the cache misses of a burst overlap instead
  // of queueing one behind the other (the l3fwd / VPP way). Any n; out[i] answers key i.
  struct DecapKey {
    TunnelMode mode = TunnelMode::V6V4;
    Ipv4Addr outer_src;
    uint16_t src_port = 0;  // V6UDPV4 only
  };
  void find_decap_bulk(const DecapKey* keys, size_t n, const TunnelEntry** out) const noexcept;
  void find_decap_proto41_bulk(const Ipv4Addr* outer_srcs, size_t n, const TunnelEntry** out) const noexcept;

  // ---- The bulk decap lookup in its three stages, for a caller with work of its own to do
  // between them (the burst path: it hashes a frame's key as it recognises the frame). Over a
  // burst: probe_decap for every key, then first_candidate for every probe, then
  // decap_match; each stage prefetches what the next one reads.
  //
  // A decap key as one number: mode, outer source (host order), UDP source port (0 for
  // protocol 41). Each node keeps its own, so a match is one compare.
  static constexpr uint64_t decap_key(TunnelMode mode, uint32_t outer_src, uint16_t port) noexcept {
    return (uint64_t{static_cast<uint8_t>(mode)} << 48) | (uint64_t{outer_src} << 16) | port;
  }
  // The key an entry is found by (its port counts only over UDP).
  static constexpr uint64_t decap_key_of(const TunnelEntry& e) noexcept {
    return decap_key(e.mode, e.client_v4.value, e.mode == TunnelMode::V6UDPV4 ? e.client_port : uint16_t{0});
  }
  struct DecapProbe {
    uint64_t key, hash;
  };
  struct Node;  // opaque to callers: where a chain starts
  [[gnu::always_inline]] DecapProbe probe_decap(uint64_t key) const noexcept {
    const DecapProbe probe{key, table_detail::mix64(key ^ hash_seed_)};
    __builtin_prefetch(&bucket(kDecap, probe.hash));
    return probe;
  }
  // nullptr when the bucket's summary rules the key out.
  [[gnu::always_inline]] const Node* first_candidate(const DecapProbe& probe) const noexcept {
    const Node* first = candidates(bucket(kDecap, probe.hash).load(std::memory_order_acquire), probe.hash);
    if (first != nullptr) prefetch_node(first);
    return first;
  }
  [[gnu::always_inline]] const TunnelEntry* decap_match(const Node* first, uint64_t key) const noexcept;
  // In two rounds: the /128 index for every key, then the prefix lengths for the keys left.
  // Unlike find_encap it does not ask the site filter: a caller with keys it expects to miss
  // (sources, inner destinations) filters them first with site_probe / may_find_encap.
  void find_encap_bulk(const Ipv6Addr* dsts, size_t n, const TunnelEntry** out) const noexcept;
  // False when no entry can match `a` in find_encap: the site filter's verdict, one hash and
  // one bit (true while the filter is off). For the fast path's spoofing and loop checks.
  bool may_find_encap(const Ipv6Addr& a) const noexcept { return site_may_hold(high_word(a.bytes.data())); }
  // The same in two steps, for a burst: site_probe() hashes the address (16 bytes in network
  // order) and prefetches the filter's word; may_find_encap(probe), asked once the burst's
  // other probes are made, finds it in cache. Beyond a few hundred thousand tunnels the filter
  // outgrows the L2 cache, and addresses from all over the Internet hit all of it.
  struct SiteProbe {
    uint64_t bit;
  };
  SiteProbe site_probe(const uint8_t* addr) const noexcept {
    const SiteProbe probe{site_bit(high_word(addr))};
    __builtin_prefetch(&site_words_[probe.bit / 64]);
    return probe;
  }
  bool may_find_encap(SiteProbe probe) const noexcept { return site_filter().may_hold(probe); }
  // The filter as a burst reads it: whether it is on, read once, so that the whole burst is
  // one instant (as the bulk lookups read the prefix lengths in use once per chunk).
  struct SiteFilter {
    const std::atomic<uint64_t>* words;  // nullptr while the filter is off
    bool may_hold(SiteProbe probe) const noexcept {
      return words == nullptr || ((words[probe.bit / 64].load(std::memory_order_acquire) >> (probe.bit % 64)) & 1);
    }
  };
  SiteFilter site_filter() const noexcept {
    const bool off = prefix_lengths_in_use_[0].load(std::memory_order_acquire) & kLengthsBelowSite;
    return {off ? nullptr : site_words_.get()};
  }

  // The fast path's stamp, for an entry this table's lookups returned, whose id is in range by
  // construction (try_upsert checks it): no range check. prefetch_seen is a hint before
  // mark_seen, for a burst; mark_seen stores only when the stamp changes (at most once per
  // tunnel per second), so a busy tunnel's line stays shared.
  void prefetch_seen(const TunnelEntry& e) const noexcept { __builtin_prefetch(&last_seen_[e.id]); }
  void mark_seen(const TunnelEntry& e, uint64_t now) const noexcept {
    std::atomic<uint64_t>& stamp = last_seen_[e.id];
    if (stamp.load(std::memory_order_relaxed) != now) stamp.store(now, std::memory_order_relaxed);
  }

  // Bytes the table holds for its capacity and current entries (indexes, per-id arrays,
  // nodes), not counting nodes awaiting reclaim. For the benchmarks' memory figures.
  size_t memory_bytes() const noexcept;

  // Readers' only write (so it is allowed through a const table): a relaxed store. Ids out of
  // range are ignored / read as 0.
  void stamp_last_seen(uint32_t id, uint64_t now) const noexcept {
    if (id < capacity_) last_seen_[id].store(now, std::memory_order_relaxed);
  }
  uint64_t last_seen(uint32_t id) const noexcept {
    return id < capacity_ ? last_seen_[id].load(std::memory_order_relaxed) : 0;
  }

 private:
  enum Index : unsigned { kDecap = 0, kClientV6 = 1, kPrefix = 2, kIndexCount = 3 };

  static bool indexed(Index index, const TunnelEntry& e) noexcept;
  static bool same_key(Index index, const TunnelEntry& a, const TunnelEntry& b) noexcept;

  // Writer helpers (writer_mutex_ held).
  UpsertResult check_upsert(const TunnelEntry& e) const;
  const Node* find_writer(Index index, const TunnelEntry& key) const;
  void link(Index index, Node* node);
  void unlink(Index index, Node* node);
  void swap_in_place(Index index, Node* old_node, Node* new_node);
  void count_prefix_length(unsigned len, int delta);
  void retire(Node* node);

  // A bucket is one word: the address of its chain's first node in the low 48 bits (user
  // space on x86-64 and AArch64 fits), and in the high 16 a summary of the chain, bit t set
  // when some node in it has hash tag t (the hash's top 4 bits; the bucket comes from the low
  // ones). A lookup whose tag is not in the summary is a miss without touching any node, so
  // the fast path's negative lookups (loop and spoofing checks) cost one bucket read.
  using BucketWord = uintptr_t;
  static constexpr unsigned kSummaryShift = 48;
  static constexpr BucketWord kChainMask = (BucketWord{1} << kSummaryShift) - 1;
  static BucketWord tag_bit(uint64_t hash) noexcept { return BucketWord{1} << (kSummaryShift + (hash >> 60)); }
  static Node* chain_of(BucketWord word) noexcept { return reinterpret_cast<Node*>(word & kChainMask); }
  // The chain to walk for a key of this hash: nullptr when the summary rules it out.
  static Node* candidates(BucketWord word, uint64_t hash) noexcept {
    return (word & tag_bit(hash)) ? chain_of(word) : nullptr;
  }
  BucketWord summary_of_chain(Index index, const Node* first) const noexcept;

  // The site filter, for encap lookups: bit site_bit(a) is set while some client /128 or
  // delegated prefix of /48 or longer lies in the /48 of address a. An address whose bit is
  // clear is nobody's, so the negative encap lookups of the fast path (the RFC 6324 loop
  // check on every decapsulated packet, the spoofing check on the source of every
  // encapsulated one: Internet addresses, nearly always) cost one hash and one bit instead of
  // a probe per prefix length. Off while a prefix shorter than /48 is in use. The writer keeps
  // a saturating count per bit; a saturated bit stays set (only ever a false "maybe").
  // Inline: the fast path asks once per packet.
  static constexpr unsigned kSiteLen = 48;
  static constexpr uint64_t kLengthsBelowSite = (uint64_t{1} << (kSiteLen - 1)) - 1;  // bits of lengths 1..47
  // Multiplicative (Fibonacci) hashing, the product's top bits: two instructions where the
  // indexes' finaliser takes eight, and sequential /48s (a pool's) land far apart. A poor spread
  // could only cost false "maybe"s, never a wrong answer.
  [[gnu::always_inline]] uint64_t site_bit(uint64_t hi) const noexcept {
    return (((hi >> (64 - kSiteLen)) ^ site_salt_) * 0x9e3779b97f4a7c15ULL) >> site_shift_;
  }
  [[gnu::always_inline]] bool site_may_hold(uint64_t hi) const noexcept {
    return may_find_encap(SiteProbe{site_bit(hi)});
  }
  // The first 8 bytes of an address in network order, as a number.
  static uint64_t high_word(const uint8_t* addr) noexcept {
    uint64_t v;
    std::memcpy(&v, addr, sizeof v);
    if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
    return v;
  }
  void count_sites(const TunnelEntry& e, int delta);

  // Reader helpers.
  std::atomic<BucketWord>& bucket(Index index, uint64_t hash) const noexcept {
    return heads_[index][hash & bucket_mask_];
  }
  uint64_t hash_of(Index index, const TunnelEntry& e) const noexcept;
  const Node* find_prefix(uint64_t hi, uint64_t lo, unsigned len) const noexcept;
  void find_decap_keys(const uint64_t* keys, size_t n, const TunnelEntry** out) const noexcept;  // n <= one chunk
  void find_encap_chunk(const Ipv6Addr* dsts, size_t n, const TunnelEntry** out) const noexcept;
  void find_prefix_chunk(const table_detail::V6Words* words, const size_t* keys, size_t m, uint64_t lengths_up_to_64,
                         uint64_t lengths_above_64, const TunnelEntry** out) const noexcept;
  // Both lines: the keys start in the first, server_v6 and the prefix lie in the second.
  [[gnu::always_inline]] static void prefetch_node(const Node* node) noexcept {
    __builtin_prefetch(node);
    __builtin_prefetch(reinterpret_cast<const char*>(node) + 64);
  }

  void reclaimer_loop();
  static void poison_and_free(Node* node) noexcept;

  const uint32_t capacity_;
  const uint64_t bucket_mask_;  // bucket count - 1; the count is a power of two >= capacity
  const uint64_t hash_seed_;    // per table, so colliding keys cannot be precomputed
  const uint64_t site_salt_;    // the seed as the site filter mixes it in
  std::array<std::unique_ptr<std::atomic<BucketWord>[]>, kIndexCount> heads_;
  std::unique_ptr<std::atomic<Node*>[]> by_id_;
  const uint64_t site_mask_;  // site filter bits - 1
  const unsigned site_shift_;  // 64 - log2(site filter bits)
  std::unique_ptr<std::atomic<uint64_t>[]> site_words_;
  std::unique_ptr<uint8_t[]> site_counts_;  // writer_mutex_
  std::unique_ptr<std::atomic<uint64_t>[]> last_seen_;
  // Bit (len - 1) set while some entry has a delegated prefix of length len (1..128).
  std::array<std::atomic<uint64_t>, 2> prefix_lengths_in_use_{};
  std::atomic<size_t> size_{0};

  mutable std::mutex writer_mutex_;
  std::array<uint32_t, 129> prefix_length_count_{};  // writer_mutex_

  // Reclamation: writers append, the reclaimer thread frees after a grace period.
  mutable std::mutex reclaim_mutex_;
  std::condition_variable reclaim_wakeup_;
  std::condition_variable reclaim_done_;
  Node* retired_head_ = nullptr;  // reclaim_mutex_; linked through Node::retired_next
  uint64_t retired_total_ = 0;    // reclaim_mutex_
  uint64_t freed_total_ = 0;      // reclaim_mutex_
  uint64_t reclaim_batches_ = 0;  // reclaim_mutex_
  bool stopping_ = false;         // reclaim_mutex_
  unsigned reclaim_waiters_ = 0;  // reclaim_mutex_; threads in wait_for_reclaim
  std::thread reclaimer_;
};

// A published node never changes except for its `next` links; readers get &node->entry.
// Two cache lines: the links and the decap key in the first, the entry across both (the
// client's /128 straddles them; the bulk lookups prefetch both lines).
struct alignas(64) TunnelTable::Node {
  std::array<std::atomic<Node*>, kIndexCount> next{};
  uint64_t decap_key;  // decap_key() of the entry
  TunnelEntry entry;
  Node* retired_next = nullptr;  // reclaim list; never read by lookups

  explicit Node(const TunnelEntry& e) : decap_key(decap_key_of(e)), entry(e) {}
};

inline const TunnelEntry* TunnelTable::decap_match(const Node* first, uint64_t key) const noexcept {
  for (const Node* n = first; n != nullptr; n = n->next[kDecap].load(std::memory_order_acquire)) {
    if (n->decap_key == key) return &n->entry;
  }
  return nullptr;
}

}  // namespace tsp
