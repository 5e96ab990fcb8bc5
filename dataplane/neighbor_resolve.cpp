#include "dataplane/neighbor_resolve.hpp"

#include <rte_arp.h>
#include <rte_icmp.h>
#include <rte_ip.h>

#include <cstring>

#include "dataplane/addr_match.hpp"
#include "dataplane/byte_order.hpp"
#include "dataplane/checksum.hpp"
#include "dataplane/classify.hpp"

namespace tsp::dp {

namespace {

constexpr uint8_t kNeighborSolicitation = 135;
constexpr uint8_t kNeighborAdvertisement = 136;
constexpr uint8_t kOptionSourceLinkLayer = 1;
constexpr uint8_t kOptionTargetLinkLayer = 2;
constexpr uint32_t kNdHeaderLen = 24;  // ICMPv6 header (type..reserved) + target address
constexpr uint32_t kLinkLayerOptionLen = 8;
constexpr uint32_t kArpFrameLen = kEthernetHeaderLen + sizeof(rte_arp_hdr);
constexpr uint32_t kSolicitationFrameLen = kEthernetHeaderLen + kIpv6HeaderLen + kNdHeaderLen + kLinkLayerOptionLen;

const rte_ether_addr kBroadcast = {{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}};

void write_ethernet(rte_mbuf* m, const rte_ether_addr& dst, const rte_ether_addr& src, uint16_t ether_type) noexcept {
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  eth->dst_addr = dst;
  eth->src_addr = src;
  eth->ether_type = be16(ether_type);
}

// Only neighbors on the uplink's link: link-local, inside our prefix, or the gateway.
bool on_uplink_link(const DataplaneConfig& cfg, const uint8_t* addr) noexcept {
  return ipv6_is_link_local(addr) ||
         ipv6_in_prefix(addr, cfg.ipv6_address.bytes.data(), cfg.ipv6_prefix_len) ||
         (cfg.ipv6_gateway && ipv6_equal(addr, cfg.ipv6_gateway->bytes.data()));
}

// Asks for `key` unless this second's request has gone already (or there is no room).
template <typename Build>
void request_once(PipelineContext& ctx, const NeighborKey& key, Side side, ExtraPackets& extra, Build build) noexcept {
  if (extra.n >= ExtraPackets::kMax || !ctx.neighbors->claim_request(key, ctx.now)) return;
  rte_mbuf* request = build();
  if (request == nullptr) {
    ctx.counters->drop(DropReason::no_mbuf);
    return;
  }
  extra.pkt[extra.n++] = ExtraPacket{request, side};
}

}  // namespace

void learn_from_arp(const PipelineContext& ctx, const rte_mbuf* m) noexcept {
  if (rte_pktmbuf_data_len(m) < kArpFrameLen) return;
  const auto* arp = rte_pktmbuf_mtod_offset(m, const rte_arp_hdr*, kEthernetHeaderLen);
  if (arp->arp_hardware != be16(RTE_ARP_HRD_ETHER) ||
      arp->arp_protocol != be16(RTE_ETHER_TYPE_IPV4) || arp->arp_hlen != RTE_ETHER_ADDR_LEN ||
      arp->arp_plen != 4) {
    return;
  }
  const uint16_t op = be16(arp->arp_opcode);
  if (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY) return;
  const Ipv4Addr sender{be32(arp->arp_data.arp_sip)};
  const DataplaneConfig& cfg = *ctx.cfg;
  if (sender.value == 0 || sender == cfg.ipv4_address || !ipv4_in_subnet(sender, cfg.ipv4_address, cfg.ipv4_prefix_len)) {
    return;
  }
  const rte_ether_addr sender_mac = arp->arp_data.arp_sha;
  if (!rte_is_valid_assigned_ether_addr(&sender_mac)) return;
  ctx.neighbors->learn(NeighborKey::ipv4(sender), sender_mac);
}

void learn_from_neighbor_discovery(const PipelineContext& ctx, const rte_mbuf* m) noexcept {
  const uint32_t frame_len = rte_pktmbuf_data_len(m);
  if (frame_len < kEthernetHeaderLen + kIpv6HeaderLen + kNdHeaderLen) return;
  const auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv6_hdr*, kEthernetHeaderLen);
  const uint32_t icmp_len = be16(ip->payload_len);
  // RFC 4861 §7.1.1/§7.1.2: hop limit 255 proves the sender is on the link.
  if (ip->proto != IPPROTO_ICMPV6 || ip->hop_limits != 255 || icmp_len < kNdHeaderLen ||
      kEthernetHeaderLen + kIpv6HeaderLen + icmp_len > frame_len) {
    return;
  }
  const auto* icmp = reinterpret_cast<const uint8_t*>(ip + 1);
  const uint8_t type = icmp[0];
  if ((type != kNeighborSolicitation && type != kNeighborAdvertisement) || icmp[1] != 0 ||
      ipv6_l4_sum(ip, icmp, icmp_len) != 0xFFFF) {
    return;
  }

  const uint8_t wanted_option = type == kNeighborSolicitation ? kOptionSourceLinkLayer : kOptionTargetLinkLayer;
  const uint8_t* mac = nullptr;
  for (uint32_t at = kNdHeaderLen; at < icmp_len;) {
    if (icmp_len - at < 2) return;
    const uint32_t option_len = icmp[at + 1] * 8u;
    if (option_len == 0 || option_len > icmp_len - at) return;  // RFC 4861: discard the message
    if (icmp[at] == wanted_option && option_len >= 2 + RTE_ETHER_ADDR_LEN) {
      mac = icmp + at + 2;
    }
    at += option_len;
  }

  const uint8_t* addr = nullptr;
  if (type == kNeighborSolicitation) {
    if (mac == nullptr || ipv6_is_unspecified(ip->src_addr)) return;  // duplicate address detection
    addr = ip->src_addr;
  } else {
    addr = icmp + 8;  // the target
    // A solicited advertisement may leave the option out: the frame says who sent it.
    if (mac == nullptr) mac = rte_pktmbuf_mtod(m, const rte_ether_hdr*)->src_addr.addr_bytes;
  }
  rte_ether_addr learned;
  std::memcpy(learned.addr_bytes, mac, RTE_ETHER_ADDR_LEN);
  if (!on_uplink_link(*ctx.cfg, addr) || !rte_is_valid_assigned_ether_addr(&learned)) return;
  uint8_t key_bytes[16];
  std::memcpy(key_bytes, addr, 16);
  ctx.neighbors->learn(NeighborKey::ipv6(key_bytes), learned);
}

const rte_ether_addr* known_mac(PipelineContext& ctx, Side side, const NeighborKey& key) noexcept {
  NeighborMemo& memo = ctx.last_neighbor[static_cast<unsigned>(side)];
  if (memo.valid && memo.key == key) return &memo.mac;
  const auto mac = ctx.neighbors->lookup(key);
  if (!mac) return nullptr;
  memo = NeighborMemo{key, *mac, true};
  return &memo.mac;
}

bool resolve_ipv4_next_hop(PipelineContext& ctx, rte_mbuf* m, Ipv4Addr next_hop, ExtraPackets& extra) noexcept {
  const NeighborKey key = NeighborKey::ipv4(next_hop);
  const PortAddrs& port = ctx.side[static_cast<unsigned>(Side::Ipv4)];
  if (const rte_ether_addr* mac = known_mac(ctx, Side::Ipv4, key)) {
    *rte_pktmbuf_mtod(m, rte_ether_hdr*) = data_frame_header(ctx, Side::Ipv4, *mac);
    return true;
  }
  request_once(ctx, key, Side::Ipv4, extra,
               [&] { return build_arp_request(ctx.pool, port.mac, ctx.cfg->ipv4_address, next_hop); });
  return false;
}

bool resolve_ipv6_next_hop(PipelineContext& ctx, rte_mbuf* m, const uint8_t (&next_hop)[16],
                           ExtraPackets& extra) noexcept {
  const NeighborKey key = NeighborKey::ipv6(next_hop);
  const PortAddrs& port = ctx.side[static_cast<unsigned>(Side::Ipv6)];
  if (const rte_ether_addr* mac = known_mac(ctx, Side::Ipv6, key)) {
    *rte_pktmbuf_mtod(m, rte_ether_hdr*) = data_frame_header(ctx, Side::Ipv6, *mac);
    return true;
  }
  request_once(ctx, key, Side::Ipv6, extra,
               [&] { return build_neighbor_solicitation(ctx.pool, port.mac, ctx.cfg->ipv6_address, next_hop); });
  return false;
}

rte_mbuf* build_arp_request(rte_mempool* pool, const rte_ether_addr& mac, Ipv4Addr sender, Ipv4Addr target) noexcept {
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) return nullptr;
  if (rte_pktmbuf_append(m, kArpFrameLen) == nullptr) {
    rte_pktmbuf_free(m);
    return nullptr;
  }
  write_ethernet(m, kBroadcast, mac, RTE_ETHER_TYPE_ARP);
  auto* arp = rte_pktmbuf_mtod_offset(m, rte_arp_hdr*, kEthernetHeaderLen);
  arp->arp_hardware = be16(RTE_ARP_HRD_ETHER);
  arp->arp_protocol = be16(RTE_ETHER_TYPE_IPV4);
  arp->arp_hlen = RTE_ETHER_ADDR_LEN;
  arp->arp_plen = 4;
  arp->arp_opcode = be16(RTE_ARP_OP_REQUEST);
  arp->arp_data.arp_sha = mac;
  arp->arp_data.arp_sip = be32(sender.value);
  arp->arp_data.arp_tha = rte_ether_addr{};
  arp->arp_data.arp_tip = be32(target.value);
  return m;
}

rte_mbuf* build_neighbor_solicitation(rte_mempool* pool, const rte_ether_addr& mac, const Ipv6Addr& source,
                                      const uint8_t (&target)[16]) noexcept {
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) return nullptr;
  if (rte_pktmbuf_append(m, kSolicitationFrameLen) == nullptr) {
    rte_pktmbuf_free(m);
    return nullptr;
  }
  // Solicited-node multicast: ff02::1:ffXX:XXXX and its MAC 33:33:ff:XX:XX:XX (RFC 4291, 2464).
  const rte_ether_addr multicast_mac = {{0x33, 0x33, 0xFF, target[13], target[14], target[15]}};
  write_ethernet(m, multicast_mac, mac, RTE_ETHER_TYPE_IPV6);

  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv6_hdr*, kEthernetHeaderLen);
  ip->vtc_flow = be32(6u << 28);
  ip->payload_len = be16(kNdHeaderLen + kLinkLayerOptionLen);
  ip->proto = IPPROTO_ICMPV6;
  ip->hop_limits = 255;
  std::memcpy(ip->src_addr, source.bytes.data(), 16);
  static constexpr uint8_t kSolicitedNodePrefix[13] = {0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xFF};
  static_assert(sizeof(kSolicitedNodePrefix) == 13);
  std::memcpy(ip->dst_addr, kSolicitedNodePrefix, 13);
  std::memcpy(ip->dst_addr + 13, target + 13, 3);

  auto* icmp = reinterpret_cast<uint8_t*>(ip + 1);
  std::memset(icmp, 0, kNdHeaderLen + kLinkLayerOptionLen);
  icmp[0] = kNeighborSolicitation;
  std::memcpy(icmp + 8, target, 16);
  icmp[kNdHeaderLen] = kOptionSourceLinkLayer;
  icmp[kNdHeaderLen + 1] = 1;  // in units of 8 bytes
  std::memcpy(icmp + kNdHeaderLen + 2, mac.addr_bytes, RTE_ETHER_ADDR_LEN);
  set_icmpv6_checksum(ip, reinterpret_cast<rte_icmp_hdr*>(icmp), kNdHeaderLen + kLinkLayerOptionLen);
  return m;
}

}  // namespace tsp::dp
