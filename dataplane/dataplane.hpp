// The dataplane's door for the control plane: no DPDK type appears here, so control/ can hold
// a Dataplane without including DPDK headers (and tspbrokerd without a `dataplane` block runs
// the control plane alone).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/drop_reasons.hpp"
#include "shared/net_types.hpp"

namespace tsp {
class TunnelTable;
}

namespace tsp::dp {

// The classes of frames the workers hand to the kernel, each policed on its own
// (exception_policer.hpp): a flood of one cannot take the others' budget.
enum class ExceptionClass : uint8_t {
  Neighbor,  // ARP on the IPv4 port, neighbor solicitations and advertisements on the IPv6 one
  Tsp,       // UDP or TCP to the broker's IPv4 address and the TSP port
  Other,     // everything else for the kernel: ICMP, other ports, broadcasts, the uplink address
};
inline constexpr unsigned kExceptionClassCount = 3;

// What "exception limit NAME RATE [BURST]" limits: each class (the first three, in
// ExceptionClass's order), and each source address's share of the tsp class, so that one
// host flooding the TSP port cannot take the budget every TSP client shares.
inline constexpr unsigned kExceptionLimitCount = kExceptionClassCount + 1;
inline constexpr unsigned kTspSourceLimit = kExceptionClassCount;  // its index among the limits
inline constexpr const char* kExceptionLimitNames[kExceptionLimitCount] = {"neighbor", "tsp", "other", "tsp-source"};

// "exception limit NAME RATE [BURST]": frames per second for the whole dataplane (each worker
// gets its share) and the burst allowed above it. 0 = no limit.
struct ExceptionLimit {
  uint32_t per_second = 0;
  uint32_t burst = 0;
  bool operator==(const ExceptionLimit&) const = default;
};
// Defaults: well above what the control plane needs at its rated 10,000 TSP sessions a second
// (5-10 frames each), well below what a tap and the kernel behind it can take. One source
// address gets 1,000 TSP frames a second, a hundredth of the class: a hundred sessions a
// second or so, for the many clients behind a carrier-grade NAT.
inline constexpr ExceptionLimit kDefaultExceptionLimits[kExceptionLimitCount] = {
    {10000, 1000}, {100000, 10000}, {10000, 1000}, {1000, 1000}};

// What the `dataplane` block of the broker configuration says.
struct DataplaneConfig {
  std::vector<std::string> eal_args;     // e.g. {"--no-huge", "-m", "256", "--vdev", "net_af_packet0,iface=veth0"}
  std::string ipv4_port;                 // DPDK device name facing the clients (IPv4 side)
  std::string ipv6_port;                 // DPDK device name facing the IPv6 uplink
  unsigned workers = 1;                  // poll-mode worker lcores (one RX/TX queue pair per port each)
  Ipv4Addr ipv4_address;                 // broker IPv4 on the client side (the tunnel server address)
  uint8_t ipv4_prefix_len = 24;          // on-link subnet of the IPv4 side
  std::optional<Ipv4Addr> ipv4_gateway;  // next hop for off-link clients
  Ipv6Addr ipv6_address;                 // broker IPv6 on the uplink
  uint8_t ipv6_prefix_len = 64;
  std::optional<Ipv6Addr> ipv6_gateway;  // next hop for the IPv6 Internet
  std::string ipv4_tap = "tsp-v4";       // kernel exception interfaces (net_tap)
  std::string ipv6_tap = "tsp-v6";
  uint16_t udp_port = 3653;              // TSP/v6udpv4 port on ipv4_address
  uint16_t tcp_port = 3653;              // TSP over TCP (0: none), for the exception policer's classes
  ExceptionLimit exception_limits[kExceptionLimitCount] = {kDefaultExceptionLimits[0], kDefaultExceptionLimits[1],
                                                          kDefaultExceptionLimits[2], kDefaultExceptionLimits[3]};
  uint16_t tunnel_mtu = 1280;            // inner MTU (>= 1280)
  uint32_t max_tunnels = 100000;         // per-tunnel counter arrays
};

// Summed over workers when read.
struct DataplaneStats {
  struct Worker {
    unsigned lcore = 0;
    uint64_t rx = 0, tx = 0, decap = 0, encap = 0, exception = 0, keepalive_replies = 0, icmp_errors = 0;
    uint64_t reassembled = 0;  // IPv4 packets put together from fragments
    uint64_t decap_bytes = 0, encap_bytes = 0;  // inner IPv6 bytes of the decap and encap packets
    uint64_t drops[kDropReasonCount] = {};
  };
  std::vector<Worker> workers;

  // Every worker's figures added up (lcore 0).
  Worker total() const {
    Worker t;
    for (const Worker& w : workers) {
      t.rx += w.rx;
      t.tx += w.tx;
      t.decap += w.decap;
      t.encap += w.encap;
      t.exception += w.exception;
      t.keepalive_replies += w.keepalive_replies;
      t.icmp_errors += w.icmp_errors;
      t.reassembled += w.reassembled;
      t.decap_bytes += w.decap_bytes;
      t.encap_bytes += w.encap_bytes;
      for (size_t i = 0; i < kDropReasonCount; ++i) t.drops[i] += w.drops[i];
    }
    return t;
  }
};

struct TunnelStats {
  uint64_t packets_in = 0, bytes_in = 0;    // decapsulated (from the client)
  uint64_t packets_out = 0, bytes_out = 0;  // encapsulated (to the client)
};

// A client address whose TSP frames the workers dropped over its share.
struct PolicedSource {
  Ipv4Addr address;
  uint64_t frames = 0;
  bool operator==(const PolicedSource&) const = default;
};

class Dataplane {
 public:
  virtual ~Dataplane() = default;
  // Initialises EAL, the ports, the exception taps (addresses and routes configured in the
  // kernel) and launches the workers. Throws std::runtime_error with a clear reason.
  static std::unique_ptr<Dataplane> start(const DataplaneConfig& cfg, const TunnelTable& table);
  virtual void stop() = 0;  // idempotent; the destructor calls it
  virtual DataplaneStats stats() const = 0;
  // The traffic of the tunnel that holds this id now (since restart_tunnel_stats).
  virtual TunnelStats tunnel_stats(uint32_t tunnel_id) const = 0;
  // A new tunnel takes over this id: its figures start from zero. (A no-op for dataplanes
  // that count nothing per tunnel.)
  virtual void restart_tunnel_stats(uint32_t /*tunnel_id*/) {}
  // The client addresses whose TSP frames the workers dropped over their per-source share
  // (`exception limit tsp-source`) since the start or the last reload of the limits, the most
  // dropped first. Each bucket of the share counts for the last address it dropped (addresses
  // may share a bucket). Empty for dataplanes that police nothing.
  virtual std::vector<PolicedSource> policed_tsp_sources() const { return {}; }
  // A reload's new exception limits (the workers' buckets start again, full). A no-op for
  // dataplanes that police nothing.
  virtual void set_exception_limits(const ExceptionLimit (&/*limits*/)[kExceptionLimitCount]) {}
};

// "neighbor 10000/s burst 1000, tsp no limit, ..." for the log.
inline std::string exception_limits_text(const ExceptionLimit (&limits)[kExceptionLimitCount]) {
  std::string text;
  for (unsigned c = 0; c < kExceptionLimitCount; ++c) {
    const ExceptionLimit& l = limits[c];
    text += std::string(c ? ", " : "") + kExceptionLimitNames[c] + " " +
            (l.per_second ? std::to_string(l.per_second) + "/s burst " + std::to_string(l.burst) : "no limit");
  }
  return text;
}

}  // namespace tsp::dp
