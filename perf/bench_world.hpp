// One worker of a broker with N tunnels, as process_packet sees it: the test broker's
// addresses (tests/unit/dp_test_support), a tunnel table filled with realistic keys, both
// gateways' MACs already learned (no ARP/ND on the path) and the worker's own counters.
//
// The tunnels: ids 0..N-1, even ids protocol 41, odd ids UDP (so both modes exist from N = 2);
// client IPv4 addresses all distinct, spread over 10.0.0.0/8; random UDP source ports;
// every tunnel has a /128 in 2001:db8:f000::/64, a quarter also a /64 (in 2a00::/16) and a
// quarter a /48 (in 2a01::/16).
#pragma once

#include <rte_ether.h>
#include <rte_mbuf.h>

#include <cstdint>
#include <random>
#include <vector>

#include "dataplane/dataplane.hpp"
#include "dataplane/neighbor_table.hpp"
#include "dataplane/pipeline.hpp"
#include "dataplane/worker_counters.hpp"
#include "shared/net_types.hpp"
#include "shared/tunnel_entry.hpp"
#include "shared/tunnel_table.hpp"

namespace tsp::perf {

// Where the ingress Ethernet frames come from and the egress ones go (fixed: the bare loop
// writes them as constants, the pipeline finds them in the neighbor table).
struct LinkMacs {
  rte_ether_addr client_port, client_gateway;  // IPv4 side
  rte_ether_addr uplink_port, uplink_gateway;  // IPv6 side
};

// A uniformly random address inside prefix/len.
Ipv6Addr random_address_in(const Ipv6Addr& prefix, unsigned len, std::mt19937_64& rng);

class BenchWorld {
 public:
  // Fills the table (a second or two for a million tunnels). The calling thread must be a
  // registered RCU reader before it runs packets through `ctx`. Throws std::runtime_error if
  // the table refuses a tunnel.
  BenchWorld(uint32_t tunnel_count, rte_mempool* pool, uint64_t seed);
  BenchWorld(const BenchWorld&) = delete;
  BenchWorld& operator=(const BenchWorld&) = delete;

  const TunnelEntry& tunnel(uint32_t id) const { return entries_.at(id); }
  uint32_t tunnel_count() const { return static_cast<uint32_t>(entries_.size()); }
  // The one id of the table left vacant (tunnel_count()), for tunnels published during a run.
  uint32_t spare_id() const { return tunnel_count(); }
  // A uniformly random tunnel of this mode.
  const TunnelEntry& random_tunnel(TunnelMode mode, std::mt19937_64& rng) const;

  dp::DataplaneConfig cfg;
  LinkMacs macs;
  TunnelTable table;
  dp::NeighborTable neighbors{64};
  dp::WorkerCounters counters;
  dp::PipelineContext ctx;

 private:
  std::vector<TunnelEntry> entries_;  // by id
};

}  // namespace tsp::perf
