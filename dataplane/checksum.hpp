// Internet checksums over DPDK's raw-sum helpers. All 16-bit words are taken in memory order:
// one's-complement sums do not care, as long as every word is treated the same way.
#pragma once

#include <rte_icmp.h>
#include <rte_ip.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "dataplane/byte_order.hpp"

namespace tsp::dp {

// The one's-complement sum of a 20-byte header (no options: nearly every packet) as five
// 32-bit words added in 64 bits, then folded: a dozen instructions where the generic loop
// takes a call and a loop per 16-bit word.
inline uint16_t ipv4_option_free_header_sum(const rte_ipv4_hdr* ip) noexcept {
  uint32_t w[5];
  std::memcpy(w, ip, sizeof w);
  uint64_t sum = uint64_t{w[0]} + w[1] + w[2] + w[3] + w[4];
  sum = (sum & 0xFFFFFFFFu) + (sum >> 32);
  sum = (sum & 0xFFFFFFFFu) + (sum >> 32);
  sum = (sum & 0xFFFFu) + (sum >> 16);
  sum = (sum & 0xFFFFu) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

// The checksum field (network order) of an option-free header with these fields (host order,
// type of service 0), computed from the values rather than read back from memory: loading a
// header just written with narrow stores stalls on store forwarding. The addresses are added
// whole: 2^16 is 1 modulo 0xFFFF, so a 32-bit value counts as the sum of its two halves, and
// the folds leave the same 1..0xFFFF as summing word by word.
inline uint16_t ipv4_header_checksum_of(uint16_t total_length, uint16_t id, uint16_t fragment, uint8_t ttl,
                                        uint8_t proto, uint32_t src, uint32_t dst) noexcept {
  uint64_t sum = uint64_t{0x4500u} + total_length + id + fragment + (uint32_t{ttl} << 8 | proto) + src + dst;
  sum = (sum & 0xFFFFu) + (sum >> 16);  // < 2^19
  sum = (sum & 0xFFFFu) + (sum >> 16);  // < 2^16 + 8
  sum = (sum & 0xFFFFu) + (sum >> 16);  // <= 0xFFFF
  return be16(static_cast<uint16_t>(~sum));
}

// The one's-complement sum of the 20-byte header at `ip` is 0xFFFF: three loads added with
// end-around carries. 2^16 and 2^64 are both 1 modulo 0xFFFF, so every step keeps the sum of
// the header's 16-bit words modulo 0xFFFF, and that sum folds to 0xFFFF exactly when it is a
// non-zero multiple of 0xFFFF (only an all-zero header sums to 0). One division by a constant
// (a multiply) instead of three folds.
inline bool ipv4_option_free_header_ok(const void* ip) noexcept {
  uint64_t a, b;
  uint32_t c;
  std::memcpy(&a, ip, 8);
  std::memcpy(&b, static_cast<const uint8_t*>(ip) + 8, 8);
  std::memcpy(&c, static_cast<const uint8_t*>(ip) + 16, 4);
  uint64_t s = a + b;
  s += s < a;
  s += c;
  s += s < c;
  return s != 0 && s % 0xFFFF == 0;
}

// The header checksum of an IPv4 header (ihl words) is valid.
inline bool ipv4_header_checksum_ok(const rte_ipv4_hdr* ip) noexcept {
  if (ip->version_ihl == RTE_IPV4_VHL_DEF) return ipv4_option_free_header_ok(ip);
  return rte_raw_cksum(ip, rte_ipv4_hdr_len(ip)) == 0xFFFF;
}

inline void set_ipv4_header_checksum(rte_ipv4_hdr* ip) noexcept {
  ip->hdr_checksum = 0;
  if (ip->version_ihl == RTE_IPV4_VHL_DEF) {
    ip->hdr_checksum = static_cast<uint16_t>(~ipv4_option_free_header_sum(ip));
    return;
  }
  ip->hdr_checksum = rte_ipv4_cksum(ip);
}

// The one's-complement sum of the pseudo-header (addresses, `ip->payload_len`, next header)
// and `len` bytes at `l4`; 0xFFFF when a received message's checksum is right.
inline uint16_t ipv6_l4_sum(const rte_ipv6_hdr* ip, const void* l4, size_t len) noexcept {
  return __rte_raw_cksum_reduce(__rte_raw_cksum(l4, len, rte_ipv6_phdr_cksum(ip, 0)));
}

// Fills in the checksum of the ICMPv6 message of `len` bytes at `icmp`, which follows `ip`
// directly (its checksum field is overwritten).
inline void set_icmpv6_checksum(const rte_ipv6_hdr* ip, rte_icmp_hdr* icmp, size_t len) noexcept {
  icmp->icmp_cksum = 0;
  icmp->icmp_cksum = static_cast<uint16_t>(~ipv6_l4_sum(ip, icmp, len));
}

// RFC 1624 incremental update: one 16-bit word of the covered data changes.
inline uint16_t checksum_replace16(uint16_t checksum, uint16_t old_word, uint16_t new_word) noexcept {
  uint32_t sum = static_cast<uint16_t>(~checksum) + static_cast<uint32_t>(static_cast<uint16_t>(~old_word)) + new_word;
  sum = (sum & 0xFFFF) + (sum >> 16);
  sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

}  // namespace tsp::dp
