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

// A token bucket counted in TSC cycles: each frame costs `hz` units of credit, and `rate`
// units accrue per cycle, so no division runs per frame. Starts full.
class TokenBucket {
 public:
  TokenBucket() = default;  // no limit
  TokenBucket(uint64_t per_second, uint64_t burst, uint64_t hz) noexcept
      : rate_(per_second), hz_(hz), cap_(burst * hz), credit_(burst * hz) {}

  bool limited() const noexcept { return rate_ != 0; }

  // One frame at TSC `now`: true if it may pass.
  bool take(uint64_t now) noexcept {
    if (rate_ == 0) return true;
    uint64_t elapsed = now - last_;
    last_ = now;
    if (elapsed > hz_) elapsed = hz_;  // a second refills at most `rate` frames; keeps the product small
    credit_ += elapsed * rate_;
    if (credit_ > cap_) credit_ = cap_;
    if (credit_ < hz_) return false;
    credit_ -= hz_;
    return true;
  }

 private:
  uint64_t rate_ = 0, hz_ = 1, cap_ = 0, credit_ = 0, last_ = 0;
};

// One worker's buckets, one per class, each with the worker's share of the configured limit.
struct ExceptionPolicer {
  TokenBucket bucket[kExceptionClassCount];

  ExceptionPolicer() = default;
  ExceptionPolicer(const ExceptionLimit (&limits)[kExceptionClassCount], unsigned workers, uint64_t hz) noexcept {
    const uint64_t n = workers == 0 ? 1 : workers;
    for (unsigned c = 0; c < kExceptionClassCount; ++c) {
      const ExceptionLimit& l = limits[c];
      if (l.per_second == 0) continue;
      const uint64_t rate = l.per_second / n ? l.per_second / n : 1;
      const uint64_t burst = l.burst / n ? l.burst / n : 1;
      bucket[c] = TokenBucket(rate, burst, hz);
    }
  }
};

// The limits in force, for a reload to change while the workers run: the control thread
// writes them and bumps the generation; each worker compares the generation once per poll
// loop (one relaxed load) and rebuilds its buckets, full, when it moved. A worker that reads
// a half-written set sees the generation move again and rebuilds once more.
class ExceptionLimitBoard {
 public:
  ExceptionLimitBoard(const ExceptionLimit (&limits)[kExceptionClassCount], unsigned workers, uint64_t hz) noexcept
      : workers_(workers), hz_(hz) {
    publish(limits);
  }

  void publish(const ExceptionLimit (&limits)[kExceptionClassCount]) noexcept {
    for (unsigned c = 0; c < kExceptionClassCount; ++c)
      packed_[c].store(uint64_t{limits[c].per_second} << 32 | limits[c].burst, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
  }

  uint64_t generation() const noexcept { return generation_.load(std::memory_order_relaxed); }

  // The policer for one worker as of now; `seen` gets the generation it reflects.
  ExceptionPolicer policer(uint64_t& seen) const noexcept {
    seen = generation_.load(std::memory_order_acquire);
    ExceptionLimit limits[kExceptionClassCount];
    for (unsigned c = 0; c < kExceptionClassCount; ++c) {
      const uint64_t v = packed_[c].load(std::memory_order_relaxed);
      limits[c] = ExceptionLimit{static_cast<uint32_t>(v >> 32), static_cast<uint32_t>(v)};
    }
    return ExceptionPolicer(limits, workers_, hz_);
  }

 private:
  const unsigned workers_;
  const uint64_t hz_;
  std::atomic<uint64_t> packed_[kExceptionClassCount]{};
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

// Whether a frame from the IPv4 port that goes to the kernel (not ARP) is TSP: UDP or TCP to
// the broker's address and the TSP port. Read only on the exception path.
inline ExceptionClass ipv4_exception_class(const DataplaneConfig& cfg, const rte_mbuf* m) noexcept {
  constexpr uint32_t kIpStart = sizeof(rte_ether_hdr);
  if (rte_pktmbuf_data_len(m) < kIpStart + sizeof(rte_ipv4_hdr) + 4) return ExceptionClass::Other;
  const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
  if (eth->ether_type != be16(RTE_ETHER_TYPE_IPV4)) return ExceptionClass::Other;
  const auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, kIpStart);
  const uint32_t header_len = (ip->version_ihl & 0x0Fu) * 4u;
  if (be32(ip->dst_addr) != cfg.ipv4_address.value || (be16(ip->fragment_offset) & RTE_IPV4_HDR_OFFSET_MASK) != 0 ||
      rte_pktmbuf_data_len(m) < kIpStart + header_len + 4) {
    return ExceptionClass::Other;
  }
  // Both headers start with the source port, then the destination port.
  const auto* ports = rte_pktmbuf_mtod_offset(m, const rte_be16_t*, kIpStart + header_len);
  const uint16_t dst_port = be16(ports[1]);
  if (ip->next_proto_id == IPPROTO_UDP && cfg.udp_port != 0 && dst_port == cfg.udp_port) return ExceptionClass::Tsp;
  if (ip->next_proto_id == IPPROTO_TCP && cfg.tcp_port != 0 && dst_port == cfg.tcp_port) return ExceptionClass::Tsp;
  return ExceptionClass::Other;
}

}  // namespace tsp::dp
