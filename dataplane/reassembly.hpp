// IPv4 reassembly of tunnel packets that arrive in fragments, one table per worker (DPDK's
// rte_ip_frag). A client whose path to the broker has a smaller MTU than its tunnel packets
// (PPPoE, a second tunnel) and does not set DF has its outer packets fragmented on the way;
// a decapsulator is expected to put them together again (RFC 4213, section 3.6), and dropping
// them would black-hole every large packet of that client. Protocol-41 and UDP fragments to
// the broker's address come here (classify.hpp, the Reassemble verdict); other protocols' go
// to the kernel, which reassembles its own.
//
// Bounded: at most kMaxPackets packets in reassembly per worker, each of at most
// RTE_LIBRTE_IP_FRAG_MAX_FRAG (8) fragments, each kept for at most kTimeoutSeconds; a fragment
// that does not fit (table full, too many fragments, overlapping, expired) is dropped and
// counted (ipv4_fragment). A whole packet must then fit one packet buffer (2 KiB of data room:
// IPv4 packets up to 2,034 bytes, above RFC 4213's 1,500); a larger one is dropped by the
// pipeline as segmented_frame. All fragments of a packet reach the same worker: the ports hash
// IPv4 on its addresses only (RTE_ETH_RSS_IP, fragments included). Not thread-safe: one per
// worker, used by its lcore only.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

struct rte_ip_frag_tbl;
struct rte_ip_frag_death_row;

namespace tsp::dp {

class Ipv4Reassembly {
 public:
  static constexpr uint32_t kMaxPackets = 512;
  static constexpr uint32_t kTimeoutSeconds = 2;
  // Fragments the table may hold at once, for sizing the mbuf pool.
  static constexpr uint32_t kMaxHeldMbufs = kMaxPackets * RTE_LIBRTE_IP_FRAG_MAX_FRAG;

  // Throws std::runtime_error if the table cannot be allocated on `socket`.
  Ipv4Reassembly(uint64_t tsc_hz, int socket);
  ~Ipv4Reassembly();
  Ipv4Reassembly(const Ipv4Reassembly&) = delete;
  Ipv4Reassembly& operator=(const Ipv4Reassembly&) = delete;

  // A fragment of an IPv4 packet to us, its header checked (classify_ipv4_port), at TSC
  // `now`. Takes the mbuf. Returns the whole packet once its last fragment came, as one frame
  // (Ethernet header of its first fragment, a valid header checksum, possibly several
  // segments), or nullptr (held, or dropped: see take_dropped()).
  rte_mbuf* add(rte_mbuf* fragment, uint64_t now) noexcept;

  // Drops the packets whose fragments have waited too long; once per poll loop.
  void expire(uint64_t now) noexcept;

  // How many fragments were dropped since the last call.
  uint32_t take_dropped() noexcept {
    const uint32_t n = dropped_count_;
    dropped_count_ = 0;
    return n;
  }

 private:
  void free_dropped() noexcept;  // empties the library's list of dropped mbufs, counting them

  rte_ip_frag_tbl* table_ = nullptr;
  rte_ip_frag_death_row* dropped_ = nullptr;  // emptied after every call into the library
  uint32_t dropped_count_ = 0;
};

}  // namespace tsp::dp
