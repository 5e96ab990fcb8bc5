// The per-packet work of a poll-mode worker, independent of how packets are polled: the poll
// loop (worker.cpp) receives bursts and hands each packet here with the port it came from; the
// verdict says where it goes. Fast path: no allocation other than mempool buffers, no lock, no
// log. Everything a worker writes (counters, staging) is its own.
#pragma once

#include <rte_ether.h>
#include <rte_mbuf.h>

#include <cstdint>

#include "dataplane/dataplane.hpp"
#include "dataplane/drop_reasons.hpp"
#include "dataplane/exception_policer.hpp"
#include "dataplane/neighbor_table.hpp"
#include "dataplane/worker_counters.hpp"
#include "shared/tunnel_table.hpp"

namespace tsp::dp {

enum class Side : uint8_t { Ipv4 = 0, Ipv6 = 1 };  // which NIC port a packet arrived on / leaves by

// Addresses and ports of one broker instance, fixed while workers run.
struct PortAddrs {
  uint16_t port_id = 0;      // the NIC port of this side
  uint16_t tap_port_id = 0;  // its exception port (net_tap), same MAC as the NIC port
  rte_ether_addr mac{};
};

// RFC 4443 §2.4(f): ICMPv6 errors are rate limited. Per worker, per second of `now`.
struct IcmpErrorBudget {
  uint32_t per_second = 1000;
  uint64_t second = 0;  // the `now` the count below belongs to
  uint32_t used = 0;
};

// The next hop a side last resolved to a MAC, so that a burst headed for one gateway reads the
// shared neighbor table once. Only trusted within one burst: process_burst forgets it at the
// start of each, and whenever a frame of the burst teaches the neighbor table something.
struct NeighborMemo {
  NeighborKey key;
  rte_ether_addr mac{};
  bool valid = false;
};

struct PipelineContext {
  const DataplaneConfig* cfg = nullptr;  // broker addresses, gateways, MTU, UDP port
  const TunnelTable* table = nullptr;    // RCU readers: the worker is registered and online
  NeighborTable* neighbors = nullptr;    // shared by workers, lock-free
  WorkerCounters* counters = nullptr;    // this worker's own
  rte_mempool* pool = nullptr;           // for packets the pipeline creates (ARP/NS requests)
  PortAddrs side[2];
  uint64_t now = 0;  // unix seconds, refreshed once per poll loop (last-seen stamps)
  uint64_t now_cycles = 0;  // TSC, refreshed once per poll loop (the exception policer)
  // Worker-private state the pipeline itself updates.
  uint16_t next_ipv4_id = 0;  // identification of the outer IPv4 headers it builds
  IcmpErrorBudget icmp_budget;
  NeighborMemo last_neighbor[2];  // by Side
  // Last: 128 KiB (the per-source buckets) read only on the exception path, after the fields the
  // forwarding path reads. No limit unless the worker's setup gives it the configured one.
  ExceptionPolicer policer;

  void forget_neighbors() noexcept { last_neighbor[0].valid = last_neighbor[1].valid = false; }
};

struct Verdict {
  // Reassemble: an IPv4 fragment of tunnel data (or UDP) for the worker's reassembly
  // (reassembly.hpp); the caller gives it the mbuf, and the whole packet, when it completes
  // one, to process_packet. Nothing is counted for the fragment itself.
  enum class Kind : uint8_t { Transmit, Exception, Drop, Reassemble } kind = Kind::Drop;
  Side out = Side::Ipv4;  // Transmit: leave by this side's NIC port; Exception: into this side's tap
  DropReason reason = DropReason::malformed_ethernet;  // Drop: why (the caller frees the mbuf)
};

// A packet the pipeline built besides the one it was given (an ARP request or neighbor
// solicitation for an unresolved next hop); the poll loop transmits it on `out`.
struct ExtraPacket {
  rte_mbuf* m = nullptr;
  Side out = Side::Ipv4;
};
struct ExtraPackets {
  static constexpr unsigned kMax = 8;
  ExtraPacket pkt[kMax];
  unsigned n = 0;
};

// A frame received on the NIC port of `from`. The mbuf is rewritten in place (decap, encap,
// ICMPv6 errors and echo replies are built in the same buffer); on Drop the caller frees it.
// Counts everything but rx, tx and the caller's own tx_full/no_mbuf drops (worker_counters.hpp):
// a Drop verdict's reason is already counted. The caller transmits `extra` even on Drop.
Verdict process_packet(PipelineContext& ctx, Side from, rte_mbuf* m, ExtraPackets& extra);

// The poll loop's path: process_packet on pkts[0..n) in order, with the same verdicts, bytes
// and counters, but staged like l3fwd's multi-lookup loop: recognise the frames of the common
// case (decap_fast.hpp for tunnel data, encap_fast.hpp on the uplink), then the burst's tunnel
// lookups stage by stage (TunnelTable's staged decap lookup, find_encap_bulk; misses
// overlapped), prefetch the tunnels' counters and last-seen stamps, then finish each frame in
// order: a data packet between a tunnel and the far side's gateway in straight-line code,
// anything else by the reference functions. The per-packet path above stays the reference it
// is checked against. `extra` collects the whole burst's ARP/NS requests (at most
// ExtraPackets::kMax; a neighbor beyond that is asked in a later burst).
inline constexpr unsigned kMaxBurst = 32;
void process_burst(PipelineContext& ctx, Side from, rte_mbuf* const* pkts, unsigned n, Verdict* verdicts,
                   ExtraPackets& extra);

}  // namespace tsp::dp
