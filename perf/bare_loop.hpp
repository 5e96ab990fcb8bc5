// The floor the pipeline is compared with: what any forwarder of these packets must do and
// nothing more. Per frame: read the lookup key at its fixed offset (no length, version or
// checksum check), one TunnelTable lookup, strip or prepend the outer header with constant
// MACs (no neighbor lookup), decrement the hop limit; no counters, no verdict.
//
// On the bench's valid frames it writes the same bytes as process_packet (checked before
// anything is timed), so the difference in cycles is the cost of the checks, counters and
// general structure of the real pipeline.
#pragma once

#include <rte_ether.h>
#include <rte_mbuf.h>

#include <cstdint>

#include "perf/bench_packets.hpp"
#include "perf/bench_world.hpp"
#include "shared/tunnel_table.hpp"

namespace tsp::perf {

class BareLoop {
 public:
  BareLoop(const TunnelTable& table, const LinkMacs& macs);

  // Rewrites `n` frames of scenario `s` in place. Returns how many found no tunnel (left as
  // they were; none with the bench's frames). The caller is an online RCU reader.
  unsigned run_burst(Scenario s, rte_mbuf* const* pkts, unsigned n) noexcept;

  uint16_t next_ipv4_id = 0;  // identification of the outer IPv4 headers, like the pipeline's

 private:
  bool decap(rte_mbuf* m, bool udp) const noexcept;
  bool encap(rte_mbuf* m, bool udp) noexcept;

  const TunnelTable& table_;
  rte_ether_hdr to_uplink_;   // decapsulated packets leave to the IPv6 gateway
  rte_ether_hdr to_clients_;  // encapsulated ones to the IPv4 gateway
};

}  // namespace tsp::perf
