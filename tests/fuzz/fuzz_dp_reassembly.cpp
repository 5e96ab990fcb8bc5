// Fuzz target: arbitrary sequences of IPv4 fragments through a worker's reassembly
// (dataplane/reassembly.hpp), each whole packet then through the pipeline's reference path, as
// the poll loop does. Nothing may crash or read out of bounds (the fuzz build is sanitized),
// and no packet buffer may be lost: after the sequence and a final time-out every mbuf is back
// in its pool. Input, per fragment (6 bytes, then its payload):
//   [packet: 1 bit foreign source, 1 bit tunnel, 2 bits protocol, 4 bits IPv4 id][offset in
//   8-byte units: 2 bytes, the top bit MF][payload length: 1 byte, times 8 unless the low bit of
//   the flags says odd; at most 1480]
//   [flags: bit 0 odd length, bit 1 advance the clock a second, bits 2-7 first payload byte]
//   [payload seed: 1 byte]
#include <rte_mempool.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "dataplane/reassembly.hpp"
#include "tests/unit/dp_test_support.hpp"

using namespace tsp;
using namespace tsp::dp;
using namespace tsp::dp::test;

namespace {

constexpr uint64_t kHz = 1000;

// A tunnel-shaped payload start (an IPv6 header of a test tunnel) so that some whole packets
// get as far as the lookups, and arbitrary bytes for the rest.
Bytes payload_for(const TunnelEntry& t, uint8_t proto, size_t offset, size_t len, uint8_t first, uint8_t seed) {
  Bytes inner = udp6_packet(t.client_v6, addrs::internet_host, 64, 400);
  if (proto == 17) inner = udp(t.client_port, 3653, inner);
  Bytes out(len);
  for (size_t i = 0; i < len; ++i) {
    const size_t at = offset + i;
    out[i] = at < inner.size() ? inner[at] : static_cast<uint8_t>(seed * 31 + at);
  }
  if (len > 0 && offset == 0 && (first & 1)) out[0] = first;  // now and then a broken first byte
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const TunnelEntry kTunnels[2] = {tunnels::proto41_host(), tunnels::udp_slash48()};
  const unsigned free_before = rte_mempool_avail_count(test_pool());
  {
    PipelineHarness h;
    h.learn_gateways();
    Ipv4Reassembly reassembly(kHz, SOCKET_ID_ANY);
    uint64_t now = 1;
    for (size_t at = 0; at + 6 <= size; at += 6) {
      const uint8_t packet = data[at];
      const uint16_t offset_word = static_cast<uint16_t>(data[at + 1] << 8 | data[at + 2]);
      const uint8_t flags = data[at + 4];
      const size_t len = std::min<size_t>((flags & 1) ? data[at + 3] : size_t{data[at + 3]} * 8, 1480);  // one frame
      const TunnelEntry& t = kTunnels[(packet >> 6) & 1];
      const uint8_t proto = ((packet >> 4) & 3) == 0 ? 17 : 41;
      Ipv4Header ip;
      ip.src = (packet & 0x80) ? v4("198.51.100.200") : t.client_v4;
      ip.dst = addrs::broker_v4;
      ip.proto = proto;
      ip.id = packet & 0x0F;
      ip.flags_fragment = static_cast<uint16_t>((offset_word & 0x8000 ? 0x2000 : 0) | (offset_word & 0x1FFF));
      const size_t offset = size_t{offset_word & 0x1FFFu} * 8;
      const Bytes frame = ethernet(addrs::v4_port_mac, addrs::v4_gateway_mac, RTE_ETHER_TYPE_IPV4,
                                   ipv4(ip, payload_for(t, proto, offset, len, flags, data[at + 5])));
      if (flags & 2) now += kHz;
      reassembly.expire(now);
      if (rte_mbuf* whole = reassembly.add(to_mbuf(frame), now)) {
        ExtraPackets extra;
        const Verdict v = process_packet(h.ctx, Side::Ipv4, whole, extra);
        if (v.kind == Verdict::Kind::Reassemble) {
          std::fprintf(stderr, "fuzz_dp_reassembly: a whole packet came back as a fragment\n");
          std::abort();
        }
        rte_pktmbuf_free(whole);
        for (unsigned e = 0; e < extra.n; ++e) rte_pktmbuf_free(extra.pkt[e].m);
      }
      (void)reassembly.take_dropped();
    }
  }  // the reassembly gives back what it still holds
  const unsigned free_after = rte_mempool_avail_count(test_pool());
  if (free_after != free_before) {
    std::fprintf(stderr, "fuzz_dp_reassembly: %u packet buffer(s) lost\n", free_before - free_after);
    std::abort();
  }
  return 0;
}
