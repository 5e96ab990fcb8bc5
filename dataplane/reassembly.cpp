// rte_ip_frag_table_del_expired_entries is still experimental in DPDK 22.11.
#define ALLOW_EXPERIMENTAL_API 1

#include "dataplane/reassembly.hpp"

#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_malloc.h>

#include <stdexcept>
#include <string>

#include "dataplane/classify.hpp"

namespace tsp::dp {

namespace {
constexpr uint32_t kBucketEntries = 4;  // associativity (a power of two)
constexpr uint32_t kBuckets = Ipv4Reassembly::kMaxPackets / kBucketEntries * 2;  // half full at most
}  // namespace

Ipv4Reassembly::Ipv4Reassembly(uint64_t tsc_hz, int socket) {
  table_ = rte_ip_frag_table_create(kBuckets, kBucketEntries, kMaxPackets, tsc_hz * kTimeoutSeconds, socket);
  if (table_ == nullptr) throw std::runtime_error("cannot allocate an IPv4 reassembly table on socket " + std::to_string(socket));
  dropped_ = static_cast<rte_ip_frag_death_row*>(rte_zmalloc_socket("tsp_frag_drops", sizeof(rte_ip_frag_death_row), 0, socket));
  if (dropped_ == nullptr) {
    rte_ip_frag_table_destroy(table_);
    throw std::runtime_error("cannot allocate the reassembly's list of dropped fragments");
  }
}

Ipv4Reassembly::~Ipv4Reassembly() {
  expire(UINT64_MAX);  // whatever is still held goes back to its pool
  rte_ip_frag_table_destroy(table_);
  rte_free(dropped_);
}

rte_mbuf* Ipv4Reassembly::add(rte_mbuf* fragment, uint64_t now) noexcept {
  auto* ip = rte_pktmbuf_mtod_offset(fragment, rte_ipv4_hdr*, kEthernetHeaderLen);
  fragment->l2_len = kEthernetHeaderLen;
  fragment->l3_len = (ip->version_ihl & 0x0Fu) * 4u;
  rte_mbuf* whole = rte_ipv4_frag_reassemble_packet(table_, dropped_, fragment, now, ip);
  free_dropped();
  if (whole == nullptr) return nullptr;
  // The library rewrote the length and the fragment field of the first fragment's header, not
  // its checksum.
  ip = rte_pktmbuf_mtod_offset(whole, rte_ipv4_hdr*, whole->l2_len);
  ip->hdr_checksum = 0;
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  // The NIC's checksum verdicts were on a fragment: none holds for the whole.
  whole->ol_flags &= ~(RTE_MBUF_F_RX_IP_CKSUM_MASK | RTE_MBUF_F_RX_L4_CKSUM_MASK);
  return whole;
}

void Ipv4Reassembly::expire(uint64_t now) noexcept {
  // The library stops when its list is full (a few hundred mbufs): empty it and go on.
  for (;;) {
    rte_ip_frag_table_del_expired_entries(table_, dropped_, now);
    if (dropped_->cnt == 0) return;
    free_dropped();
  }
}

void Ipv4Reassembly::free_dropped() noexcept {
  if (dropped_->cnt == 0) return;
  dropped_count_ += dropped_->cnt;
  rte_ip_frag_free_death_row(dropped_, 0);
}

}  // namespace tsp::dp
