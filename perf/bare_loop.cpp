#include "perf/bare_loop.hpp"

#include <rte_ip.h>
#include <rte_udp.h>

#include <cstring>

#include "dataplane/byte_order.hpp"
#include "dataplane/classify.hpp"

namespace tsp::perf {

namespace {

using dp::be16;
using dp::be32;
using dp::kEthernetHeaderLen;
using dp::kIpv4HeaderLen;
using dp::kIpv6HeaderLen;
using dp::kUdpHeaderLen;

rte_ether_hdr ethernet_header(const rte_ether_addr& dst, const rte_ether_addr& src, uint16_t ether_type) {
  rte_ether_hdr h{};
  h.dst_addr = dst;
  h.src_addr = src;
  h.ether_type = be16(ether_type);
  return h;
}

// Moves the start of the frame by `delta` bytes (negative: prepend). No headroom check: the
// bench's mbufs always have room.
inline void shift_front(rte_mbuf* m, int delta) noexcept {
  m->data_off = static_cast<uint16_t>(m->data_off + delta);
  m->data_len = static_cast<uint16_t>(m->data_len - delta);
  m->pkt_len = static_cast<uint32_t>(static_cast<int64_t>(m->pkt_len) - delta);
}

}  // namespace

BareLoop::BareLoop(const TunnelTable& table, const LinkMacs& macs)
    : table_(table),
      to_uplink_(ethernet_header(macs.uplink_gateway, macs.uplink_port, RTE_ETHER_TYPE_IPV6)),
      to_clients_(ethernet_header(macs.client_gateway, macs.client_port, RTE_ETHER_TYPE_IPV4)) {}

bool BareLoop::decap(rte_mbuf* m, bool udp) const noexcept {
  const auto* outer = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, kEthernetHeaderLen);
  const Ipv4Addr src{be32(outer->src_addr)};
  const TunnelEntry* t;
  if (udp) {
    const auto* uh = reinterpret_cast<const rte_udp_hdr*>(outer + 1);
    t = table_.find_decap_udp(src, be16(uh->src_port));
  } else {
    t = table_.find_decap_proto41(src);
  }
  if (t == nullptr) return false;
  shift_front(m, static_cast<int>(kIpv4HeaderLen + (udp ? kUdpHeaderLen : 0)));
  std::memcpy(rte_pktmbuf_mtod(m, void*), &to_uplink_, sizeof(to_uplink_));
  --rte_pktmbuf_mtod_offset(m, rte_ipv6_hdr*, kEthernetHeaderLen)->hop_limits;
  return true;
}

bool BareLoop::encap(rte_mbuf* m, bool udp) noexcept {
  auto* inner = rte_pktmbuf_mtod_offset(m, rte_ipv6_hdr*, kEthernetHeaderLen);
  Ipv6Addr dst;
  std::memcpy(dst.bytes.data(), inner->dst_addr, 16);
  const TunnelEntry* t = table_.find_encap(dst);
  if (t == nullptr) return false;
  --inner->hop_limits;
  const uint32_t inner_len = m->pkt_len - kEthernetHeaderLen;
  const uint32_t added = kIpv4HeaderLen + (udp ? kUdpHeaderLen : 0);
  shift_front(m, -static_cast<int>(added));
  std::memcpy(rte_pktmbuf_mtod(m, void*), &to_clients_, sizeof(to_clients_));
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, kEthernetHeaderLen);
  ip->version_ihl = RTE_IPV4_VHL_DEF;
  ip->type_of_service = 0;
  ip->total_length = be16(static_cast<uint16_t>(added + inner_len));
  ip->packet_id = be16(next_ipv4_id++);
  ip->fragment_offset = 0;
  ip->time_to_live = 64;
  ip->next_proto_id = udp ? IPPROTO_UDP : IPPROTO_IPV6;
  ip->src_addr = be32(t->server_v4.value);
  ip->dst_addr = be32(t->client_v4.value);
  ip->hdr_checksum = 0;
  ip->hdr_checksum = rte_ipv4_cksum(ip);  // part of writing a header, not a check
  if (udp) {
    auto* uh = reinterpret_cast<rte_udp_hdr*>(ip + 1);
    uh->src_port = be16(t->server_port);
    uh->dst_port = be16(t->client_port);
    uh->dgram_len = be16(static_cast<uint16_t>(kUdpHeaderLen + inner_len));
    uh->dgram_cksum = 0;
  }
  return true;
}

unsigned BareLoop::run_burst(Scenario s, rte_mbuf* const* pkts, unsigned n) noexcept {
  unsigned missed = 0;
  // One switch per burst; each case is a tight loop the compiler specialises.
  switch (s) {
    case Scenario::Decap41:
      for (unsigned i = 0; i < n; ++i) missed += !decap(pkts[i], false);
      break;
    case Scenario::DecapUdp:
      for (unsigned i = 0; i < n; ++i) missed += !decap(pkts[i], true);
      break;
    case Scenario::Encap41:
      for (unsigned i = 0; i < n; ++i) missed += !encap(pkts[i], false);
      break;
    case Scenario::EncapUdp:
      for (unsigned i = 0; i < n; ++i) missed += !encap(pkts[i], true);
      break;
  }
  return missed;
}

}  // namespace tsp::perf
