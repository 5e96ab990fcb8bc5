// The exception path's policer (control-plane protection): what the workers hand to the
// kernel's taps is limited per class, per worker, by a token bucket. Without it a flood at
// the broker's own address (ICMP, SYNs, junk to closed ports) is written into the taps at the
// rate it arrives: one system call per frame on the worker, and the kernel and the TSP
// sessions behind it starve. A class has its own bucket so that such a flood cannot take the
// budget of ARP and neighbor discovery or of TSP itself.
#pragma once

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <atomic>
#include <cstdint>

#include "dataplane/byte_order.hpp"
#include "dataplane/dataplane.hpp"
#include "dataplane/drop_reasons.hpp"

namespace tsp::dp {

// Token-bucket arithmetic in TSC cycles: each frame costs `hz` units of credit and `rate` units
// accrue per cycle, so no division runs per frame. True if a frame at TSC `now` may pass.
[[gnu::always_inline]] inline bool take_credit(uint64_t& credit, uint64_t& last, uint64_t now, uint64_t rate,
                                               uint64_t hz, uint64_t cap) noexcept {
  uint64_t elapsed = now - last;
  last = now;
  if (elapsed > hz) elapsed = hz;  // a second refills at most `rate` frames; keeps the product small
  credit += elapsed * rate;
  if (credit > cap) credit = cap;
  if (credit < hz) return false;
  credit -= hz;
  return true;
}

// A token bucket for `per_second` frames and a burst of `burst`. Starts full.
class TokenBucket {
 public:
  TokenBucket() = default;  // no limit
  TokenBucket(uint64_t per_second, uint64_t burst, uint64_t hz) noexcept
      : rate_(per_second), hz_(hz), cap_(burst * hz), credit_(burst * hz) {}

  bool limited() const noexcept { return rate_ != 0; }

  // One frame at TSC `now`: true if it may pass.
  bool take(uint64_t now) noexcept { return rate_ == 0 || take_credit(credit_, last_, now, rate_, hz_, cap_); }

 private:
  uint64_t rate_ = 0, hz_ = 1, cap_ = 0, credit_ = 0, last_ = 0;
};

// A token bucket per source address, all with the same rate and burst: a fixed table of slots
// indexed by a seeded hash of the address (no allocation, no eviction). Sources that share a
// slot share its budget; the seed, drawn when the dataplane starts, keeps a flooder from
// choosing addresses that land on a given client's slot. Each slot also counts what it
// dropped and keeps the last address it dropped, for `tspctl sources` (one writer, the
// worker; readers on the control thread).
class SourceBuckets {
 public:
  static constexpr unsigned kSlotBits = 12;
  static constexpr unsigned kSlots = 1u << kSlotBits;  // 128 KiB a worker

  SourceBuckets() = default;  // no limit

  // Every slot full, with the new limit (0: none), and nothing dropped yet.
  void reset(uint64_t per_second, uint64_t burst, uint64_t hz, uint64_t seed) noexcept {
    rate_ = per_second;
    hz_ = hz;
    cap_ = burst * hz;
    seed_ = seed;
    for (Slot& s : slot_) {
      s.credit = cap_;
      s.last = 0;
      s.dropped_source.store(0, std::memory_order_relaxed);
      s.drops.store(0, std::memory_order_relaxed);
    }
  }

  bool limited() const noexcept { return rate_ != 0; }

  unsigned slot_of(uint32_t source) const noexcept {
    return static_cast<unsigned>(((source ^ seed_) * 0x9E3779B97F4A7C15ull) >> (64 - kSlotBits));
  }

  // One frame from `source` (host byte order) at TSC `now`: true if it may pass.
  bool take(uint32_t source, uint64_t now) noexcept {
    if (rate_ == 0) return true;
    Slot& s = slot_[slot_of(source)];
    if (take_credit(s.credit, s.last, now, rate_, hz_, cap_)) return true;
    s.dropped_source.store(source, std::memory_order_relaxed);
    s.drops.store(s.drops.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);  // one writer
    return false;
  }

  // Calls f(source, drops) for each slot that dropped anything since the last reset: the last
  // address it dropped, and all it dropped (other addresses of the slot's included). Any thread.
  template <typename F>
  void for_each_policed(F&& f) const {
    for (const Slot& s : slot_) {
      if (const uint64_t n = s.drops.load(std::memory_order_relaxed)) f(s.dropped_source.load(std::memory_order_relaxed), n);
    }
  }

 private:
  // Atomic where the control thread reads; copied as values (a worker's context is set up by
  // copying a prepared one).
  struct Slot {
    uint64_t credit = 0, last = 0;
    std::atomic<uint32_t> dropped_source{0};
    std::atomic<uint64_t> drops{0};

    Slot() = default;
    Slot(const Slot& o) noexcept { *this = o; }
    Slot& operator=(const Slot& o) noexcept {
      credit = o.credit;
      last = o.last;
      dropped_source.store(o.dropped_source.load(std::memory_order_relaxed), std::memory_order_relaxed);
      drops.store(o.drops.load(std::memory_order_relaxed), std::memory_order_relaxed);
      return *this;
    }
  };
  uint64_t rate_ = 0, hz_ = 1, cap_ = 0, seed_ = 0;
  Slot slot_[kSlots]{};
};

// One worker's buckets: one per class with the worker's share of the class's limit (a class's
// frames spread over the workers), and the tsp class's per-source ones with the whole
// per-source limit (RSS hashes IPv4 on the addresses only, so one source's frames all reach
// one worker). Set up in place (it is 128 KiB).
struct ExceptionPolicer {
  TokenBucket bucket[kExceptionClassCount];
  SourceBuckets tsp_source;

  ExceptionPolicer() = default;
  ExceptionPolicer(const ExceptionLimit (&limits)[kExceptionLimitCount], unsigned workers, uint64_t hz,
                   uint64_t seed = 0) noexcept {
    configure(limits, workers, hz, seed);
  }

  void configure(const ExceptionLimit (&limits)[kExceptionLimitCount], unsigned workers, uint64_t hz,
                 uint64_t seed) noexcept {
    const uint64_t n = workers == 0 ? 1 : workers;
    const auto share = [n](uint64_t v) { return v / n ? v / n : 1; };
    for (unsigned c = 0; c < kExceptionClassCount; ++c) {
      const ExceptionLimit& l = limits[c];
      bucket[c] = l.per_second == 0 ? TokenBucket() : TokenBucket(share(l.per_second), share(l.burst), hz);
    }
    const ExceptionLimit& s = limits[kTspSourceLimit];
    tsp_source.reset(s.per_second, s.burst, hz, seed);
  }
};

// The limits in force, for a reload to change while the workers run: the control thread
// writes them and bumps the generation; each worker compares the generation once per poll
// loop (one relaxed load) and rebuilds its buckets, full, when it moved. A worker that reads
// a half-written set sees the generation move again and rebuilds once more.
class ExceptionLimitBoard {
 public:
  ExceptionLimitBoard(const ExceptionLimit (&limits)[kExceptionLimitCount], unsigned workers, uint64_t hz,
                      uint64_t seed) noexcept
      : workers_(workers), hz_(hz), seed_(seed) {
    publish(limits);
  }

  void publish(const ExceptionLimit (&limits)[kExceptionLimitCount]) noexcept {
    for (unsigned c = 0; c < kExceptionLimitCount; ++c)
      packed_[c].store(uint64_t{limits[c].per_second} << 32 | limits[c].burst, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
  }

  uint64_t generation() const noexcept { return generation_.load(std::memory_order_relaxed); }

  // Sets one worker's policer to the limits as of now; `seen` gets the generation it reflects.
  void rebuild(ExceptionPolicer& policer, uint64_t& seen) const noexcept {
    seen = generation_.load(std::memory_order_acquire);
    ExceptionLimit limits[kExceptionLimitCount];
    for (unsigned c = 0; c < kExceptionLimitCount; ++c) {
      const uint64_t v = packed_[c].load(std::memory_order_relaxed);
      limits[c] = ExceptionLimit{static_cast<uint32_t>(v >> 32), static_cast<uint32_t>(v)};
    }
    policer.configure(limits, workers_, hz_, seed_);
  }

 private:
  const unsigned workers_;
  const uint64_t hz_;
  const uint64_t seed_;
  std::atomic<uint64_t> packed_[kExceptionLimitCount]{};
  std::atomic<uint64_t> generation_{0};
};

constexpr DropReason policed_reason(ExceptionClass c) noexcept {
  switch (c) {
    case ExceptionClass::Neighbor: return DropReason::exception_policed_neighbor;
    case ExceptionClass::Tsp: return DropReason::exception_policed_tsp;
    case ExceptionClass::Other: break;
  }
  return DropReason::exception_policed_other;
}

// What a frame from the IPv4 port that goes to the kernel (not ARP) is, for the policer: TSP
// (UDP or TCP to the broker's address and the TSP port) from `source`, or other.
struct Ipv4Exception {
  ExceptionClass cls = ExceptionClass::Other;
  uint32_t source = 0;  // host byte order; TSP only
};

// Read only on the exception path.
inline Ipv4Exception ipv4_exception_kind(const DataplaneConfig& cfg, const rte_mbuf* m) noexcept {
  constexpr uint32_t kIpStart = sizeof(rte_ether_hdr);
  if (rte_pktmbuf_data_len(m) < kIpStart + sizeof(rte_ipv4_hdr) + 4) return {};
  const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
  if (eth->ether_type != be16(RTE_ETHER_TYPE_IPV4)) return {};
  const auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, kIpStart);
  const uint32_t header_len = (ip->version_ihl & 0x0Fu) * 4u;
  if (be32(ip->dst_addr) != cfg.ipv4_address.value || (be16(ip->fragment_offset) & RTE_IPV4_HDR_OFFSET_MASK) != 0 ||
      rte_pktmbuf_data_len(m) < kIpStart + header_len + 4) {
    return {};
  }
  // Both headers start with the source port, then the destination port.
  const auto* ports = rte_pktmbuf_mtod_offset(m, const rte_be16_t*, kIpStart + header_len);
  const uint16_t dst_port = be16(ports[1]);
  const bool tsp = (ip->next_proto_id == IPPROTO_UDP && cfg.udp_port != 0 && dst_port == cfg.udp_port) ||
                   (ip->next_proto_id == IPPROTO_TCP && cfg.tcp_port != 0 && dst_port == cfg.tcp_port);
  if (!tsp) return {};
  return {ExceptionClass::Tsp, be32(ip->src_addr)};
}

}  // namespace tsp::dp
