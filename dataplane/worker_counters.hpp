// Per-worker counters: each worker writes only its own, the control plane sums them when it
// reads. No DPDK type here, so the reader side (Dataplane::stats) needs no DPDK header.
//
// Who counts what:
//   - the poll loop: rx (frames received), tx (frames handed to a NIC or tap and accepted),
//     drops[tx_full] and drops[no_mbuf] when it cannot send; its IPv4 reassembly's
//     reassembled (whole packets) and drops[ipv4_fragment] (fragments it gave up on);
//   - process_packet: decap (tunnel packets forwarded to the uplink), encap (uplink packets
//     sent into a tunnel), exception (verdicts Exception), keepalive_replies, icmp_errors
//     (time exceeded and packet too big actually built), every other drop reason, and the
//     per-tunnel figures: "in" is every inner packet accepted from the client (forwarded,
//     for the broker, keepalive, or answered with an error; bytes = the inner IPv6 packet),
//     "out" every inner packet the worker sends into the tunnel (data, echo replies, errors).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "dataplane/dataplane.hpp"
#include "dataplane/drop_reasons.hpp"

namespace tsp::dp {

// A counter with one writer and racing readers. The writer's relaxed load + store compiles to
// a plain add (no locked instruction); readers see a whole value, never a torn one.
class Counter {
 public:
  void add(uint64_t n = 1) noexcept {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  uint64_t read() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

struct TunnelCounters {
  Counter packets_in, bytes_in, packets_out, bytes_out;
};

// Cache-line aligned so that two workers' counters never share a line.
struct alignas(64) WorkerCounters {
  // Allocates the per-tunnel arrays once (max_tunnels entries, ids at or above are not counted).
  explicit WorkerCounters(uint32_t max_tunnels)
      : max_tunnels_(max_tunnels), tunnels_(std::make_unique<TunnelCounters[]>(max_tunnels)) {}
  WorkerCounters(const WorkerCounters&) = delete;
  WorkerCounters& operator=(const WorkerCounters&) = delete;

  Counter rx, tx, decap, encap, exception, keepalive_replies, icmp_errors;
  Counter reassembled;  // IPv4 packets put together from fragments (the poll loop)
  Counter decap_bytes, encap_bytes;  // inner IPv6 bytes, with decap and encap
  Counter drops[kDropReasonCount];

  void drop(DropReason reason) noexcept { drops[static_cast<size_t>(reason)].add(); }

  void tunnel_in(uint32_t id, uint64_t bytes) noexcept {
    if (id >= max_tunnels_) return;
    tunnels_[id].packets_in.add();
    tunnels_[id].bytes_in.add(bytes);
  }
  void tunnel_out(uint32_t id, uint64_t bytes) noexcept {
    if (id >= max_tunnels_) return;
    tunnels_[id].packets_out.add();
    tunnels_[id].bytes_out.add(bytes);
  }

  // A hint before tunnel_in / tunnel_out on this id: the burst path issues it for a whole
  // burst once its lookups are done, so the counters' misses overlap.
  void prefetch_tunnel(uint32_t id) const noexcept {
    if (id < max_tunnels_) __builtin_prefetch(&tunnels_[id], 1);
  }

  uint32_t max_tunnels() const noexcept { return max_tunnels_; }

  // ---- Reader side (any thread, any time).
  DataplaneStats::Worker snapshot(unsigned lcore) const noexcept {
    DataplaneStats::Worker w;
    w.lcore = lcore;
    w.rx = rx.read();
    w.tx = tx.read();
    w.decap = decap.read();
    w.encap = encap.read();
    w.exception = exception.read();
    w.keepalive_replies = keepalive_replies.read();
    w.icmp_errors = icmp_errors.read();
    w.reassembled = reassembled.read();
    w.decap_bytes = decap_bytes.read();
    w.encap_bytes = encap_bytes.read();
    for (size_t i = 0; i < kDropReasonCount; ++i) w.drops[i] = drops[i].read();
    return w;
  }
  // Adds this worker's figures for one tunnel into `sum` (zero for ids out of range).
  void add_tunnel_stats(uint32_t id, TunnelStats& sum) const noexcept {
    if (id >= max_tunnels_) return;
    const TunnelCounters& t = tunnels_[id];
    sum.packets_in += t.packets_in.read();
    sum.bytes_in += t.bytes_in.read();
    sum.packets_out += t.packets_out.read();
    sum.bytes_out += t.bytes_out.read();
  }

 private:
  uint32_t max_tunnels_;
  std::unique_ptr<TunnelCounters[]> tunnels_;
};

}  // namespace tsp::dp
