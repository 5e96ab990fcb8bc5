// The workers' IPv4 reassembly (dataplane/reassembly.hpp): tunnel packets that arrive in
// fragments, in any order, come out whole and are then forwarded exactly as the same packet
// unfragmented; duplicates, time-outs and a full table drop fragments and count them, and no
// packet buffer is ever lost.
#include <catch2/catch.hpp>

#include <rte_mempool.h>

#include <algorithm>
#include <vector>

#include "dataplane/reassembly.hpp"
#include "tests/unit/dp_test_support.hpp"

using namespace tsp;
using namespace tsp::dp;
using namespace tsp::dp::test;

namespace {

constexpr uint64_t kHz = 1000;  // "cycles" a second here: the time-out is 2000

// The IPv4 packet `h` + `payload` cut into fragments of at most `chunk` payload bytes (a
// multiple of 8), as Ethernet frames from the gateway to the broker.
std::vector<Bytes> fragments(Ipv4Header h, const Bytes& payload, size_t chunk) {
  std::vector<Bytes> out;
  for (size_t at = 0; at < payload.size(); at += chunk) {
    const size_t len = std::min(chunk, payload.size() - at);
    const bool last = at + len == payload.size();
    h.flags_fragment = static_cast<uint16_t>((last ? 0 : 0x2000) | at / 8);
    out.push_back(ethernet(addrs::v4_port_mac, addrs::v4_gateway_mac, RTE_ETHER_TYPE_IPV4,
                           ipv4(h, Bytes(payload.begin() + static_cast<long>(at), payload.begin() + static_cast<long>(at + len)))));
  }
  return out;
}

Ipv4Header from_client(const TunnelEntry& t, uint8_t proto, uint16_t id) {
  Ipv4Header h;
  h.src = t.client_v4;
  h.dst = addrs::broker_v4;
  h.proto = proto;
  h.id = id;
  return h;
}

// Feeds frames in `order`: every one but the last must be held, the last must complete the
// packet. Returns the whole packet.
rte_mbuf* feed(Ipv4Reassembly& r, const std::vector<Bytes>& frags, const std::vector<size_t>& order, uint64_t now) {
  rte_mbuf* whole = nullptr;
  for (size_t k = 0; k < order.size(); ++k) {
    rte_mbuf* out = r.add(to_mbuf(frags[order[k]]), now);
    if (k + 1 < order.size()) {
      CHECK(out == nullptr);
    } else {
      whole = out;
    }
  }
  return whole;
}

unsigned free_mbufs() { return rte_mempool_avail_count(test_pool()); }

}  // namespace

TEST_CASE("reassembly: a protocol-41 packet in three fragments, in any order, is forwarded as if it had come whole",
          "[dp][reassembly]") {
  const TunnelEntry t = tunnels::proto41_host();
  const Bytes inner = udp6_packet(t.client_v6, addrs::internet_host, 64, 1200);
  Bytes expected;
  {
    PipelineHarness h;
    h.learn_gateways();
    const Outcome whole = h.run(Side::Ipv4, client_frame(t, inner));
    REQUIRE(whole.verdict.kind == Verdict::Kind::Transmit);
    expected = whole.frame;
  }
  const unsigned free_before = free_mbufs();
  const std::vector<Bytes> frags = fragments(from_client(t, 41, 77), inner, 432);
  REQUIRE(frags.size() == 3);
  for (const std::vector<size_t>& order : {std::vector<size_t>{0, 1, 2}, {2, 0, 1}, {1, 2, 0}, {2, 1, 0}}) {
    INFO("order " << order[0] << order[1] << order[2]);
    Ipv4Reassembly r(kHz, SOCKET_ID_ANY);
    rte_mbuf* whole = feed(r, frags, order, 10);
    REQUIRE(whole != nullptr);
    CHECK(r.take_dropped() == 0);
    // One IPv4 packet again: its length, no fragment bits, a valid header checksum.
    const Bytes bytes = to_bytes(whole);
    REQUIRE(bytes.size() == 14 + 20 + inner.size());
    CHECK((bytes[14 + 2] << 8 | bytes[14 + 3]) == 20 + inner.size());
    CHECK((bytes[14 + 6] & 0x3F) == 0);
    CHECK(bytes[14 + 7] == 0);
    PipelineHarness h;
    h.learn_gateways();
    ExtraPackets extra;
    const Verdict v = process_packet(h.ctx, Side::Ipv4, whole, extra);
    CHECK(v.kind == Verdict::Kind::Transmit);  // the header checksum checked out, the source too
    CHECK(v.out == Side::Ipv6);
    CHECK(hex(to_bytes(whole)) == hex(expected));
    CHECK(h.counters.decap.read() == 1);
    rte_pktmbuf_free(whole);
  }
  CHECK(free_mbufs() == free_before);
}

TEST_CASE("reassembly: a v6udpv4 packet in two fragments, and the kernel's UDP whole", "[dp][reassembly]") {
  const TunnelEntry t = tunnels::udp_slash48();
  const Bytes inner = udp6_packet(t.client_v6, addrs::internet_host, 64, 1000);
  const unsigned free_before = free_mbufs();
  Ipv4Reassembly r(kHz, SOCKET_ID_ANY);
  {
    const std::vector<Bytes> frags = fragments(from_client(t, 17, 5), udp(t.client_port, 3653, inner), 600);
    REQUIRE(frags.size() == 2);
    rte_mbuf* whole = feed(r, frags, {1, 0}, 10);
    REQUIRE(whole != nullptr);
    PipelineHarness h;
    h.learn_gateways();
    ExtraPackets extra;
    const Verdict v = process_packet(h.ctx, Side::Ipv4, whole, extra);
    CHECK(v.kind == Verdict::Kind::Transmit);
    CHECK(h.counters.decap.read() == 1);
    CHECK(h.ctx.counters->drops[static_cast<size_t>(DropReason::malformed_udp)].read() == 0);
    rte_pktmbuf_free(whole);
  }
  {
    // A datagram to another port: the kernel gets it whole.
    const std::vector<Bytes> frags = fragments(from_client(t, 17, 6), udp(5353, 53, Bytes(900, 0x42)), 512);
    rte_mbuf* whole = feed(r, frags, {0, 1}, 10);
    REQUIRE(whole != nullptr);
    PipelineHarness h;
    ExtraPackets extra;
    const Verdict v = process_packet(h.ctx, Side::Ipv4, whole, extra);
    CHECK(v.kind == Verdict::Kind::Exception);
    CHECK(to_bytes(whole).size() == 14 + 20 + 8 + 900);
    rte_pktmbuf_free(whole);
  }
  CHECK(r.take_dropped() == 0);
  CHECK(free_mbufs() == free_before);
}

TEST_CASE("reassembly: duplicates, time-outs and a full table drop fragments, and count them", "[dp][reassembly]") {
  const TunnelEntry t = tunnels::proto41_host();
  const Bytes inner = udp6_packet(t.client_v6, addrs::internet_host, 64, 1200);
  const unsigned free_before = free_mbufs();
  {
    Ipv4Reassembly r(kHz, SOCKET_ID_ANY);
    const std::vector<Bytes> frags = fragments(from_client(t, 41, 9), inner, 432);
    SECTION("the same fragment twice: the packet is given up") {
      CHECK(r.add(to_mbuf(frags[0]), 10) == nullptr);
      CHECK(r.add(to_mbuf(frags[0]), 11) == nullptr);
      CHECK(r.take_dropped() == 2);
      CHECK(r.add(to_mbuf(frags[1]), 12) == nullptr);
      CHECK(r.add(to_mbuf(frags[2]), 13) == nullptr);  // its first fragment is gone
      r.expire(13 + 2 * kHz + 1);
      CHECK(r.take_dropped() == 2);
    }
    SECTION("fragments older than the time-out") {
      CHECK(r.add(to_mbuf(frags[0]), 100) == nullptr);
      CHECK(r.add(to_mbuf(frags[2]), 150) == nullptr);
      r.expire(100 + kHz);
      CHECK(r.take_dropped() == 0);  // one second: still waiting
      r.expire(100 + 2 * kHz + 1);
      CHECK(r.take_dropped() == 2);
      // The missing middle comes too late: it starts a packet of its own.
      CHECK(r.add(to_mbuf(frags[1]), 100 + 2 * kHz + 2) == nullptr);
    }
    SECTION("more packets than the table holds") {
      const unsigned n = 3 * Ipv4Reassembly::kMaxPackets;
      uint32_t dropped = 0;
      for (unsigned i = 0; i < n; ++i) {
        const std::vector<Bytes> f = fragments(from_client(t, 41, static_cast<uint16_t>(1000 + i)), inner, 432);
        CHECK(r.add(to_mbuf(f[0]), 10) == nullptr);
        if (i % 16 == 15) dropped += r.take_dropped();
      }
      dropped += r.take_dropped();
      INFO(dropped << " dropped of " << n);
      CHECK(dropped >= n - Ipv4Reassembly::kMaxPackets);
      CHECK(dropped < n);  // some are held, until the time-out
      r.expire(10 + 2 * kHz + 1);
      CHECK(dropped + r.take_dropped() == n);
    }
  }  // the destructor gives back what is still held
  CHECK(free_mbufs() == free_before);
}
