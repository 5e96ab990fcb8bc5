#include "dataplane/icmpv6.hpp"

#include <rte_icmp.h>

#include <algorithm>
#include <cstring>

#include "dataplane/addr_match.hpp"
#include "dataplane/byte_order.hpp"
#include "dataplane/checksum.hpp"
#include "dataplane/classify.hpp"
#include "dataplane/packet_edit.hpp"

namespace tsp::dp {

namespace {

constexpr uint32_t kIcmpv6HeaderLen = 8;

rte_icmp_hdr* icmp_after(rte_ipv6_hdr* ip) noexcept { return reinterpret_cast<rte_icmp_hdr*>(ip + 1); }
const rte_icmp_hdr* icmp_after(const rte_ipv6_hdr* ip) noexcept {
  return reinterpret_cast<const rte_icmp_hdr*>(ip + 1);
}

uint16_t type_code_word(const rte_icmp_hdr* icmp) noexcept {
  uint16_t word;
  std::memcpy(&word, &icmp->icmp_type, sizeof(word));
  return word;
}

bool may_answer(const rte_ipv6_hdr* ip, uint32_t len) noexcept {
  if (ipv6_is_unspecified(ip->src_addr) || ipv6_is_multicast(ip->src_addr)) return false;
  // Informational types are 128 and up; never send an error about an error.
  return !(ip->proto == IPPROTO_ICMPV6 && len > kIpv6HeaderLen && icmp_after(ip)->icmp_type < 128);
}

bool take_budget(IcmpErrorBudget& budget, uint64_t now) noexcept {
  if (budget.second != now) {
    budget.second = now;
    budget.used = 0;
  }
  if (budget.used >= budget.per_second) return false;
  ++budget.used;
  return true;
}

}  // namespace

bool is_echo_request(const rte_ipv6_hdr* ip, uint32_t len) noexcept {
  return ip->proto == IPPROTO_ICMPV6 && len >= kIpv6HeaderLen + kIcmpv6HeaderLen &&
         icmp_after(ip)->icmp_type == kIcmpv6EchoRequest && icmp_after(ip)->icmp_code == 0;
}

void turn_into_echo_reply(rte_ipv6_hdr* ip) noexcept {
  uint8_t tmp[16];
  std::memcpy(tmp, ip->src_addr, 16);
  std::memcpy(ip->src_addr, ip->dst_addr, 16);
  std::memcpy(ip->dst_addr, tmp, 16);  // the pseudo-header sum does not change with the swap
  ip->hop_limits = 64;
  rte_icmp_hdr* icmp = icmp_after(ip);
  const uint16_t old_word = type_code_word(icmp);
  icmp->icmp_type = kIcmpv6EchoReply;
  icmp->icmp_cksum = checksum_replace16(icmp->icmp_cksum, old_word, type_code_word(icmp));
}

bool build_icmpv6_error(PipelineContext& ctx, rte_mbuf* m, uint32_t ip_offset, uint32_t error_offset,
                        const Icmpv6Error& error) noexcept {
  const uint32_t invoking_len = rte_pktmbuf_pkt_len(m) - ip_offset;
  if (!may_answer(rte_pktmbuf_mtod_offset(m, const rte_ipv6_hdr*, ip_offset), invoking_len)) return false;
  if (!take_budget(ctx.icmp_budget, ctx.now)) return false;

  // The invoking packet stays where it is and becomes the quote after the new headers.
  const uint32_t quote_offset = error_offset + kIpv6HeaderLen + kIcmpv6HeaderLen;
  if (!move_front(m, ip_offset, quote_offset)) {
    --ctx.icmp_budget.used;
    return false;
  }
  const uint32_t quote_len = std::min(invoking_len, kIcmpv6ErrorMaxLen - kIpv6HeaderLen - kIcmpv6HeaderLen);
  keep_first(m, quote_offset + quote_len);

  const auto* invoking = rte_pktmbuf_mtod_offset(m, const rte_ipv6_hdr*, quote_offset);
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv6_hdr*, error_offset);
  ip->vtc_flow = be32(6u << 28);
  ip->payload_len = be16(static_cast<uint16_t>(kIcmpv6HeaderLen + quote_len));
  ip->proto = IPPROTO_ICMPV6;
  ip->hop_limits = 64;
  std::memcpy(ip->src_addr, error.source->bytes.data(), 16);
  std::memcpy(ip->dst_addr, invoking->src_addr, 16);

  rte_icmp_hdr* icmp = icmp_after(ip);
  icmp->icmp_type = error.type;
  icmp->icmp_code = error.code;
  const uint32_t param = be32(error.param);
  // Bytes 4..7 of an error header are one 32-bit field (where an echo has ident and sequence).
  std::memcpy(reinterpret_cast<uint8_t*>(icmp) + 4, &param, sizeof(param));
  set_icmpv6_checksum(ip, icmp, kIcmpv6HeaderLen + quote_len);
  ctx.counters->icmp_errors.add();
  return true;
}

}  // namespace tsp::dp
