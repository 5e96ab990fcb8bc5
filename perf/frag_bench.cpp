// What a tunnel packet that arrives in two IPv4 fragments costs a worker, beside the same
// packet arriving whole: cycles per packet of Ipv4Reassembly::add on both fragments plus
// process_packet on the whole (the poll loop's path for fragments), against process_packet on
// the whole frame (the reference path; the burst path is cheaper still). Each loop's cost of
// copying its frames into mbufs and freeing them is measured by a copy-only loop and
// subtracted. The loops alternate within each round; medians over the rounds.
//
//   frag_bench [--packets N] [--rounds R] [--payload BYTES]
#include <rte_cycles.h>
#include <sched.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "dataplane/reassembly.hpp"
#include "tests/unit/dp_test_support.hpp"

using namespace tsp;
using namespace tsp::dp;
using namespace tsp::dp::test;

namespace {

struct Options {
  unsigned packets = 20000, rounds = 11;
  size_t payload = 1200;  // UDP payload of the inner IPv6 packet: 1248 bytes inner, cut once
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const unsigned long v = std::strtoul(argv[i + 1], nullptr, 10);
    if (key == "--packets") o.packets = static_cast<unsigned>(v);
    else if (key == "--rounds") o.rounds = static_cast<unsigned>(v);
    else if (key == "--payload") o.payload = v;
    else {
      std::fprintf(stderr, "usage: frag_bench [--packets N] [--rounds R] [--payload BYTES]\n");
      std::exit(2);
    }
  }
  if (o.packets == 0 || o.rounds == 0 || o.payload < 100 || o.payload > 1400) {
    std::fprintf(stderr, "frag_bench: --packets and --rounds above 0, --payload 100..1400\n");
    std::exit(2);
  }
  return o;
}

// The same protocol-41 packet whole, and in two fragments (the first 8-byte aligned half).
struct Frames {
  Bytes whole, first, second;
};

Frames frames_for(const TunnelEntry& t, size_t payload, uint16_t id) {
  const Bytes inner = udp6_packet(t.client_v6, addrs::internet_host, 64, payload);
  Ipv4Header h;
  h.src = t.client_v4;
  h.dst = addrs::broker_v4;
  h.id = id;
  Frames f;
  f.whole = ethernet(addrs::v4_port_mac, addrs::v4_gateway_mac, RTE_ETHER_TYPE_IPV4, ipv4(h, inner));
  const size_t cut = inner.size() / 2 / 8 * 8;
  h.flags_fragment = 0x2000;
  f.first = ethernet(addrs::v4_port_mac, addrs::v4_gateway_mac, RTE_ETHER_TYPE_IPV4,
                     ipv4(h, Bytes(inner.begin(), inner.begin() + static_cast<long>(cut))));
  h.flags_fragment = static_cast<uint16_t>(cut / 8);
  f.second = ethernet(addrs::v4_port_mac, addrs::v4_gateway_mac, RTE_ETHER_TYPE_IPV4,
                      ipv4(h, Bytes(inner.begin() + static_cast<long>(cut), inner.end())));
  return f;
}

void expect(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "frag_bench: %s\n", what);
    std::exit(1);
  }
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  PipelineHarness h;  // starts EAL and the pool (tests/unit/dp_test_support)
  h.learn_gateways();
  // The thread on one CPU for the whole run.
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  sched_getaffinity(0, sizeof allowed, &allowed);
  int cpu = 0;
  while (!CPU_ISSET(cpu, &allowed)) ++cpu;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  sched_setaffinity(0, sizeof one, &one);

  const TunnelEntry t = tunnels::proto41_host();
  std::vector<Frames> ring;
  for (uint16_t id = 0; id < 256; ++id) ring.push_back(frames_for(t, o.payload, id));
  Ipv4Reassembly reassembly(rte_get_tsc_hz(), SOCKET_ID_ANY);
  ExtraPackets extra;

  auto copy_only = [&](unsigned frames_each) {
    for (unsigned i = 0; i < o.packets; ++i) {
      const Frames& f = ring[i % ring.size()];
      for (unsigned k = 0; k < frames_each; ++k) rte_pktmbuf_free(to_mbuf(k == 0 ? f.first : f.second));
    }
  };
  auto whole = [&] {
    for (unsigned i = 0; i < o.packets; ++i) {
      rte_mbuf* m = to_mbuf(ring[i % ring.size()].whole);
      expect(process_packet(h.ctx, Side::Ipv4, m, extra).kind == Verdict::Kind::Transmit, "a whole packet not forwarded");
      rte_pktmbuf_free(m);
    }
  };
  auto fragmented = [&] {
    const uint64_t now = rte_rdtsc();
    for (unsigned i = 0; i < o.packets; ++i) {
      const Frames& f = ring[i % ring.size()];
      expect(reassembly.add(to_mbuf(f.first), now) == nullptr, "a first fragment completed a packet");
      rte_mbuf* m = reassembly.add(to_mbuf(f.second), now);
      expect(m != nullptr, "two fragments did not complete their packet");
      expect(process_packet(h.ctx, Side::Ipv4, m, extra).kind == Verdict::Kind::Transmit,
             "a reassembled packet not forwarded");
      rte_pktmbuf_free(m);
    }
    expect(reassembly.take_dropped() == 0, "fragments dropped");
  };
  auto timed = [&](auto&& loop) {
    const uint64_t t0 = rte_rdtsc();
    loop();
    return static_cast<double>(rte_rdtsc() - t0) / o.packets;
  };

  whole();  // warm caches and predictors
  fragmented();
  std::vector<double> whole_cyc, frag_cyc, ratio, copy1_cyc, copy2_cyc;
  for (unsigned r = 0; r < o.rounds; ++r) {
    const double c1 = timed([&] { copy_only(1); });
    const double w = timed(whole) - c1;
    const double c2 = timed([&] { copy_only(2); });
    const double f = timed(fragmented) - c2;
    copy1_cyc.push_back(c1);
    copy2_cyc.push_back(c2);
    whole_cyc.push_back(w);
    frag_cyc.push_back(f);
    ratio.push_back(f / w);
  }
  std::printf("frag_bench: cpu %d, TSC %.0f MHz, inner IPv6 packet %zu bytes, %u packets per loop, %u rounds, medians\n",
              cpu, rte_get_tsc_hz() / 1e6, o.payload + 48, o.packets, o.rounds);
  std::printf("%-28s %10s %10s\n", "path", "cyc/pkt", "copy_cyc");
  std::printf("%-28s %10.1f %10.1f\n", "whole (process_packet)", median(whole_cyc), median(copy1_cyc));
  std::printf("%-28s %10.1f %10.1f\n", "2 fragments (reassembly)", median(frag_cyc), median(copy2_cyc));
  std::printf("frag_bench: a packet in two fragments costs %.2f x the same packet whole (reference path)\n",
              median(ratio));
  return 0;
}
