// The common case of decapsulate() and encapsulate() in straight-line code, for process_burst:
// a data packet between a tunnel and the far side's gateway, with nothing to answer, drop or
// ask, in a frame that decap_fast.hpp or encap_fast.hpp recognised. Each function first checks
// the remaining conditions under which the reference path would do something else (drop,
// error, exception, on-link next hop, unknown MAC) and, if any holds, returns false having
// changed nothing; the caller then runs the reference path with the same lookups.
// Otherwise it writes exactly what the reference path would (frame bytes, counters, stamps,
// IPv4 id) and returns true: test_dp_pipeline_burst and fuzz_dp_pipeline compare the two.
//
// What makes it cheaper: no calls, the gateway's Ethernet header built once per burst, the
// worker's decap/encap totals summed in registers and added once per burst.
#pragma once

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <cstdint>
#include <cstring>

#include "dataplane/addr_match.hpp"
#include "dataplane/byte_order.hpp"
#include "dataplane/classify.hpp"
#include "dataplane/decap.hpp"
#include "dataplane/decap_fast.hpp"
#include "dataplane/egress.hpp"
#include "dataplane/encap_fast.hpp"
#include "dataplane/encap.hpp"
#include "dataplane/neighbor_resolve.hpp"
#include "dataplane/pipeline.hpp"

namespace tsp::dp {

// The Ethernet header toward one side's gateway, as resolve_*_next_hop would write it, while
// its MAC is known; looked up once for a burst with frames for the straight line. Valid for
// the whole burst: its frames all arrive on the other port, and what they teach (ARP on the
// IPv4 port, neighbor discovery on the IPv6 one) is about that port's neighbors, never this
// gateway.
class GatewayHeader {
 public:
  explicit GatewayHeader(Side side) noexcept : side_(side) {}

  // The header, or nullptr when the side has no gateway or its MAC is unknown.
  const rte_ether_hdr* get(PipelineContext& ctx) noexcept {
    if (state_ == State::Unknown) resolve(ctx);
    return state_ == State::Known ? &header_ : nullptr;
  }

 private:
  void resolve(PipelineContext& ctx) noexcept {
    state_ = State::Unavailable;
    const DataplaneConfig& cfg = *ctx.cfg;
    NeighborKey key;
    if (side_ == Side::Ipv4) {
      if (!cfg.ipv4_gateway) return;
      key = NeighborKey::ipv4(*cfg.ipv4_gateway);
    } else {
      if (!cfg.ipv6_gateway) return;
      key = NeighborKey::ipv6(*cfg.ipv6_gateway);
    }
    const rte_ether_addr* mac = known_mac(ctx, side_, key);
    if (mac == nullptr) return;
    header_ = data_frame_header(ctx, side_, *mac);
    state_ = State::Known;
  }

  enum class State : uint8_t { Unknown, Known, Unavailable };
  Side side_;
  State state_ = State::Unknown;
  rte_ether_hdr header_{};
};

// The worker's forwarding totals of a burst, added to its counters once at the end.
struct ForwardSums {
  uint64_t packets = 0, bytes = 0;
};

// A single-segment frame shrinks or grows at the front to `new_front` bytes before byte
// `from`, and ends `len` bytes after `from`. Returns the new start of the frame (callers keep
// the old one: m's fields, once written, could alias the frame's bytes for the compiler).
[[gnu::always_inline]] inline uint8_t* reframe(rte_mbuf* m, uint8_t* frame, uint32_t from, uint32_t new_front,
                                               uint32_t len) noexcept {
  m->data_off = static_cast<uint16_t>(m->data_off + from - new_front);
  m->data_len = static_cast<uint16_t>(new_front + len);
  m->pkt_len = new_front + len;
  return frame + from - new_front;
}

// decapsulate(ctx, m, frame, found) for a frame decap_fast.hpp recognised as `f`, whose
// lookups are done: `tunnel` (of its outer source) and, when that is known, `loop` (the loop
// check's find_encap of the inner destination). The tunnel-dependent checks (a tunnel, no
// loop, the inner source among the tunnel's addresses, the gateway's MAC known) and what
// decapsulate would then write. `to_gateway`: the header toward the IPv6 side's gateway
// (GatewayHeader), nullptr when its MAC is unknown. The lookups come as two pointers, not a
// DecapLookups: the burst builds that only for the reference path.
[[gnu::always_inline]] inline bool try_fast_decap(PipelineContext& ctx, rte_mbuf* m, const FastDecapFrame& f,
                                                  const TunnelEntry* tunnel, const TunnelEntry* loop,
                                                  const rte_ether_hdr* to_gateway, ForwardSums& sums) noexcept {
  if (tunnel == nullptr || loop != nullptr) return false;
  auto* ip = reinterpret_cast<rte_ipv6_hdr*>(f.ip);
  if (!source_belongs_to(*tunnel, ip->src_addr)) return false;
  if (to_gateway == nullptr) return false;

  ctx.table->mark_seen(*tunnel, ctx.now);
  ctx.counters->tunnel_in(tunnel->id, f.ip_len);
  --ip->hop_limits;
  std::memcpy(reframe(m, f.ip - f.ip_offset, f.ip_offset, kEthernetHeaderLen, f.ip_len), to_gateway,
              sizeof *to_gateway);
  ++sums.packets;
  sums.bytes += f.ip_len;
  return true;
}

// encapsulate(ctx, m, found) for a frame encap_fast.hpp recognised, carrying an IPv6 packet of
// `ip_len` bytes: the tunnel-dependent checks (a route, no tunnel's source, an MTU that fits,
// a client reached through the IPv4 side's gateway, whose MAC is known) and what encapsulate
// would then write. `to_gateway`: the header toward the IPv4 side's gateway, nullptr when
// its MAC is unknown.
[[gnu::always_inline]] inline bool try_fast_encap(PipelineContext& ctx, const FastEncapConfig& c, rte_mbuf* m,
                                                  uint32_t ip_len, const EncapLookups& found,
                                                  const rte_ether_hdr* to_gateway, ForwardSums& sums) noexcept {
  const TunnelEntry* tunnel = found.dst_tunnel;
  if (tunnel == nullptr || found.src_tunnel != nullptr) return false;
  const uint32_t front = tunnel_front_len(tunnel->mode);
  // An on-link client (our own address among them: what points_back_at_us checks first) is
  // reached without the gateway.
  if (ip_len > tunnel->mtu || tunnel->client_v4 == tunnel->server_v4 || c.on_link(tunnel->client_v4) ||
      rte_pktmbuf_headroom(m) + kEthernetHeaderLen < front) {
    return false;
  }
  if (to_gateway == nullptr) return false;

  auto* frame = rte_pktmbuf_mtod(m, uint8_t*);
  --reinterpret_cast<rte_ipv6_hdr*>(frame + kEthernetHeaderLen)->hop_limits;
  uint8_t* out = reframe(m, frame, kEthernetHeaderLen, front, ip_len);
  std::memcpy(out, to_gateway, sizeof *to_gateway);
  write_tunnel_header(reinterpret_cast<rte_ipv4_hdr*>(out + kEthernetHeaderLen), *tunnel, ip_len,
                      ctx.next_ipv4_id++);
  ctx.counters->tunnel_out(tunnel->id, ip_len);
  ++sums.packets;
  sums.bytes += ip_len;
  return true;
}

}  // namespace tsp::dp
