// The exception path's policer: the token bucket's arithmetic, the per-source buckets of TSP,
// which class a frame for the kernel belongs to, and the pipeline dropping (and counting by
// class) what is over budget while the other classes and other TSP sources still pass, in
// both the per-packet and the burst path.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <vector>

#include "dataplane/exception_policer.hpp"
#include "tests/unit/dp_test_support.hpp"

using namespace tsp;
using namespace tsp::dp;
using namespace tsp::dp::test;

namespace {

constexpr uint64_t kHz = 1000;  // "cycles" a second in these tests

const Ipv4Addr kSource = v4("198.51.100.99");

Bytes to_broker(uint8_t proto, const Bytes& payload, Ipv4Addr source = kSource) {
  Ipv4Header h;
  h.src = source;
  h.dst = addrs::broker_v4;
  h.proto = proto;
  return ethernet(addrs::v4_port_mac, addrs::v4_gateway_mac, RTE_ETHER_TYPE_IPV4, ipv4(h, payload));
}

Bytes icmp_echo_to_us() { return to_broker(1, Bytes{8, 0, 0xf7, 0xff, 0, 0, 0, 0}); }
Bytes tsp_udp_to_us(Ipv4Addr source = kSource) {
  return to_broker(17, udp(40000, 3653, Bytes{0xF0, 0, 0, 1, 0, 0, 0, 0, 'V'}), source);
}
Bytes tcp_to_us(uint16_t port) {
  return to_broker(6, Bytes{0x9c, 0x40, static_cast<uint8_t>(port >> 8), static_cast<uint8_t>(port), 0, 0, 0, 1, 0, 0,
                            0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0});
}
Bytes arp_request_for_us() {
  Bytes b = {0, 1, 0x08, 0, 6, 4, 0, 1};
  b.insert(b.end(), addrs::v4_gateway_mac.addr_bytes, addrs::v4_gateway_mac.addr_bytes + 6);
  b.insert(b.end(), {192, 0, 2, 254, 0, 0, 0, 0, 0, 0, 192, 0, 2, 1});
  return ethernet(mac("ff:ff:ff:ff:ff:ff"), addrs::v4_gateway_mac, RTE_ETHER_TYPE_ARP, b);
}

DataplaneConfig limited(ExceptionLimit neighbor, ExceptionLimit tsp, ExceptionLimit other,
                        ExceptionLimit tsp_source = {}) {
  DataplaneConfig cfg = test_config();
  cfg.exception_limits[0] = neighbor;
  cfg.exception_limits[1] = tsp;
  cfg.exception_limits[2] = other;
  cfg.exception_limits[kTspSourceLimit] = tsp_source;
  return cfg;
}

}  // namespace

TEST_CASE("token bucket: a burst, then the rate; idle time refills up to the burst only", "[dp][policer]") {
  TokenBucket b(100, 10, kHz);  // 100 a second = one per 10 cycles
  uint64_t t = 5000;
  int passed = 0;
  for (int i = 0; i < 50; ++i) passed += b.take(t);
  CHECK(passed == 10);
  t += 100;  // 0.1 s: 10 more
  passed = 0;
  for (int i = 0; i < 50; ++i) passed += b.take(t);
  CHECK(passed == 10);
  t += 9;
  CHECK_FALSE(b.take(t));
  t += 1;
  CHECK(b.take(t));
  t += 1000000;  // a long silence refills the burst, not 100,000 frames
  passed = 0;
  for (int i = 0; i < 50; ++i) passed += b.take(t);
  CHECK(passed == 10);

  // A steady flood gets the rate: 10 seconds, one attempt a cycle.
  TokenBucket steady(100, 10, kHz);
  passed = 0;
  for (uint64_t c = 0; c < 10 * kHz; ++c) passed += steady.take(c);
  CHECK(passed >= 1000);
  CHECK(passed <= 1010);

  TokenBucket none;
  for (int i = 0; i < 1000; ++i) REQUIRE(none.take(0));
}

TEST_CASE("source buckets: each source its own budget, sources in one slot share it", "[dp][policer]") {
  SourceBuckets none;
  CHECK_FALSE(none.limited());
  for (int i = 0; i < 1000; ++i) REQUIRE(none.take(1, 0));

  SourceBuckets b;
  b.reset(100, 5, kHz, 0x1234);
  REQUIRE(b.limited());
  const uint32_t a = v4("198.51.100.1").value;
  // Another address in a slot of its own, and one sharing a's (found by search: the hash is the table's business).
  uint32_t other = a + 1, same = a + 1;
  while (b.slot_of(other) == b.slot_of(a)) ++other;
  while (b.slot_of(same) != b.slot_of(a)) ++same;
  uint64_t t = 77;
  int passed = 0;
  for (int i = 0; i < 50; ++i) passed += b.take(a, t);
  CHECK(passed == 5);  // the burst
  passed = 0;
  for (int i = 0; i < 50; ++i) passed += b.take(other, t);
  CHECK(passed == 5);  // untouched by a's flood
  CHECK_FALSE(b.take(same, t));  // a's slot is empty
  t += kHz / 10;                 // 0.1 s: 10 more, capped at the burst
  passed = 0;
  for (int i = 0; i < 50; ++i) passed += b.take(a, t);
  CHECK(passed == 5);

  // What each slot dropped, under the last address it dropped: a's slot 45 + 1 (same's, which
  // shares it) + 45, other's 45.
  std::map<uint32_t, uint64_t> dropped;
  b.for_each_policed([&](uint32_t source, uint64_t n) { dropped[source] += n; });
  CHECK(dropped == std::map<uint32_t, uint64_t>{{a, 91}, {other, 45}});

  // A steady flood from one source gets the rate: 10 seconds, one attempt a cycle.
  b.reset(100, 5, kHz, 0x1234);
  passed = 0;
  for (uint64_t c = 1; c <= 10 * kHz; ++c) passed += b.take(a, c);
  CHECK(passed >= 1000);
  CHECK(passed <= 1005);

  // reset() refills every slot and forgets the drops; the seed moves sources between slots.
  b.reset(100, 5, kHz, 0x1234);
  passed = 0;
  for (int i = 0; i < 50; ++i) passed += b.take(same, t);
  CHECK(passed == 5);
  dropped.clear();
  b.for_each_policed([&](uint32_t source, uint64_t n) { dropped[source] += n; });
  CHECK(dropped == std::map<uint32_t, uint64_t>{{same, 45}});  // the flood before the reset is forgotten
  unsigned moved = 0;
  SourceBuckets reseeded;
  reseeded.reset(100, 5, kHz, 0x5678);
  for (uint32_t s = a; s < a + 100; ++s) moved += reseeded.slot_of(s) != b.slot_of(s);
  CHECK(moved > 90);
  std::vector<unsigned> used(SourceBuckets::kSlots, 0);  // consecutive addresses spread over the slots
  for (uint32_t s = a; s < a + SourceBuckets::kSlots; ++s) ++used[b.slot_of(s)];
  CHECK(std::count(used.begin(), used.end(), 0u) < static_cast<long>(SourceBuckets::kSlots / 2));
}

TEST_CASE("policer: each worker gets its share of a class's limit, and a source's whole", "[dp][policer]") {
  const DataplaneConfig cfg = limited({0, 0}, {1000, 100}, {3, 1}, {400, 40});
  ExceptionPolicer p(cfg.exception_limits, 4, kHz);
  CHECK_FALSE(p.bucket[0].limited());
  int passed = 0;
  for (int i = 0; i < 1000; ++i) passed += p.bucket[1].take(0);
  CHECK(passed == 25);  // burst 100 / 4 workers
  passed = 0;
  for (int i = 0; i < 1000; ++i) passed += p.bucket[2].take(0);
  CHECK(passed == 1);  // never less than one
  passed = 0;
  for (int i = 0; i < 1000; ++i) passed += p.tsp_source.take(7, 0);
  CHECK(passed == 40);  // a source's whole burst: its frames all reach one worker
}

TEST_CASE("policer: which class a frame for the kernel is", "[dp][policer]") {
  DataplaneConfig cfg = test_config();
  cfg.udp_port = 3653;
  cfg.tcp_port = 3654;
  auto kind = [&](const Bytes& frame) {
    rte_mbuf* m = to_mbuf(frame);
    const Ipv4Exception e = ipv4_exception_kind(cfg, m);
    rte_pktmbuf_free(m);
    return e;
  };
  auto cls = [&](const Bytes& frame) { return kind(frame).cls; };
  CHECK(cls(tsp_udp_to_us()) == ExceptionClass::Tsp);
  CHECK(kind(tsp_udp_to_us(v4("203.0.113.7"))).source == v4("203.0.113.7").value);
  CHECK(kind(tcp_to_us(3654)).source == kSource.value);
  CHECK(cls(tcp_to_us(3654)) == ExceptionClass::Tsp);
  CHECK(cls(tcp_to_us(3653)) == ExceptionClass::Other);  // TCP's port is 3654 here
  CHECK(cls(to_broker(17, udp(40000, 53, Bytes(8, 0)))) == ExceptionClass::Other);
  CHECK(cls(icmp_echo_to_us()) == ExceptionClass::Other);
  CHECK(cls(Bytes(20, 0)) == ExceptionClass::Other);  // too short to say
  cfg.udp_port = 0;                                     // no UDP transport: nothing on UDP is TSP
  CHECK(cls(tsp_udp_to_us()) == ExceptionClass::Other);
}

TEST_CASE("pipeline: a flood over one class's limit is dropped and counted; the others pass", "[dp][policer]") {
  PipelineHarness h;
  h.cfg = limited({100, 2}, {100, 2}, {10, 3});
  h.ctx.policer.configure(h.cfg.exception_limits, 1, kHz, 0);
  h.ctx.now_cycles = 10 * kHz;

  std::vector<Verdict::Kind> kinds;
  for (int i = 0; i < 5; ++i) kinds.push_back(h.run(Side::Ipv4, icmp_echo_to_us()).verdict.kind);
  CHECK(kinds == std::vector<Verdict::Kind>{Verdict::Kind::Exception, Verdict::Kind::Exception,
                                            Verdict::Kind::Exception, Verdict::Kind::Drop, Verdict::Kind::Drop});
  CHECK(h.only_drop(DropReason::exception_policed_other, 2));
  CHECK(h.counters.exception.read() == 3);

  // ARP and TSP have budgets of their own.
  CHECK(h.run(Side::Ipv4, arp_request_for_us()).verdict.kind == Verdict::Kind::Exception);
  CHECK(h.run(Side::Ipv4, tsp_udp_to_us()).verdict.kind == Verdict::Kind::Exception);
  CHECK(h.run(Side::Ipv4, tsp_udp_to_us()).verdict.kind == Verdict::Kind::Exception);
  const Outcome third = h.run(Side::Ipv4, tsp_udp_to_us());
  CHECK(third.verdict.kind == Verdict::Kind::Drop);
  CHECK(third.verdict.reason == DropReason::exception_policed_tsp);
  CHECK(h.dropped(DropReason::exception_policed_tsp) == 1);
  CHECK(h.counters.exception.read() == 6);

  // A tenth of a second later: one more ICMP (10 a second).
  h.ctx.now_cycles += kHz / 10;
  CHECK(h.run(Side::Ipv4, icmp_echo_to_us()).verdict.kind == Verdict::Kind::Exception);
  CHECK(h.run(Side::Ipv4, icmp_echo_to_us()).verdict.kind == Verdict::Kind::Drop);

  // Tunnel data never passes through the policer.
  h.learn_gateways();
  const TunnelEntry t = tunnels::proto41_host();
  const Outcome data = h.run(Side::Ipv4, client_frame(t, udp6_packet(t.client_v6, addrs::internet_host, 64, 10)));
  CHECK(data.verdict.kind == Verdict::Kind::Transmit);
}

TEST_CASE("pipeline: one source flooding TSP is dropped before it spends the class's budget", "[dp][policer]") {
  PipelineHarness h;
  h.cfg = limited({0, 0}, {100, 5}, {0, 0}, {100, 3});
  h.ctx.policer.configure(h.cfg.exception_limits, 1, kHz, 99);
  h.ctx.now_cycles = 10 * kHz;
  const Ipv4Addr flooder = v4("203.0.113.66");
  Ipv4Addr client = v4("198.51.100.20");
  while (h.ctx.policer.tsp_source.slot_of(client.value) == h.ctx.policer.tsp_source.slot_of(flooder.value))
    client.value++;

  unsigned passed = 0;
  for (int i = 0; i < 10; ++i) passed += h.run(Side::Ipv4, tsp_udp_to_us(flooder)).verdict.kind == Verdict::Kind::Exception;
  CHECK(passed == 3);  // its own burst
  CHECK(h.only_drop(DropReason::exception_policed_tsp_source, 7));
  // The class had 5: the flooder's 3 took 3, its 7 dropped took none.
  const Outcome first = h.run(Side::Ipv4, tsp_udp_to_us(client));
  CHECK(first.verdict.kind == Verdict::Kind::Exception);
  CHECK(h.run(Side::Ipv4, tcp_to_us(3653)).verdict.kind == Verdict::Kind::Exception);  // kSource, TCP
  const Outcome third = h.run(Side::Ipv4, tsp_udp_to_us(client));
  CHECK(third.verdict.kind == Verdict::Kind::Drop);
  CHECK(third.verdict.reason == DropReason::exception_policed_tsp);  // now the class is spent
  CHECK(h.dropped(DropReason::exception_policed_tsp_source) == 7);
  CHECK(h.counters.exception.read() == 5);

  // Other classes are not counted per source.
  h.cfg = limited({0, 0}, {0, 0}, {0, 0}, {1, 1});
  h.ctx.policer.configure(h.cfg.exception_limits, 1, kHz, 99);
  for (int i = 0; i < 5; ++i) {
    CHECK(h.run(Side::Ipv4, icmp_echo_to_us()).verdict.kind == Verdict::Kind::Exception);
    CHECK(h.run(Side::Ipv4, tcp_to_us(22)).verdict.kind == Verdict::Kind::Exception);
  }
}

TEST_CASE("pipeline: the burst path polices the same frames", "[dp][policer]") {
  PipelineHarness h;
  h.cfg = limited({0, 0}, {0, 0}, {10, 4});
  h.ctx.policer.configure(h.cfg.exception_limits, 1, kHz, 0);
  h.ctx.now_cycles = 1;
  rte_mbuf* pkts[kMaxBurst];
  const unsigned n = 12;
  for (unsigned i = 0; i < n; ++i) pkts[i] = to_mbuf(i % 3 == 2 ? tsp_udp_to_us() : icmp_echo_to_us());
  Verdict verdicts[kMaxBurst];
  ExtraPackets extra;
  process_burst(h.ctx, Side::Ipv4, pkts, n, verdicts, extra);
  unsigned icmp_passed = 0, icmp_dropped = 0, tsp_passed = 0;
  for (unsigned i = 0; i < n; ++i) {
    const bool is_tsp = i % 3 == 2;
    if (is_tsp) tsp_passed += verdicts[i].kind == Verdict::Kind::Exception;
    else if (verdicts[i].kind == Verdict::Kind::Exception) ++icmp_passed;
    else if (verdicts[i].reason == DropReason::exception_policed_other) ++icmp_dropped;
    rte_pktmbuf_free(pkts[i]);
  }
  CHECK(icmp_passed == 4);
  CHECK(icmp_dropped == 4);
  CHECK(tsp_passed == 4);  // no limit on TSP here
  CHECK(h.only_drop(DropReason::exception_policed_other, 4));
}
