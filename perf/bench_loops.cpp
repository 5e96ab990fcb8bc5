#include "perf/bench_loops.hpp"

#include <rte_cycles.h>

#include <cstring>
#include <string>

#include "shared/rcu.hpp"

namespace tsp::perf {

namespace {

// Steps 1 to 4 around `process` (called with the burst and its frame count).
template <typename Process>
uint64_t timed_loop(const TemplateRing& ring, WorkingBurst& burst, uint64_t packets, Process&& process) noexcept {
  uint32_t next = 0;
  const uint64_t start = rte_rdtsc();
  for (uint64_t done = 0; done < packets;) {
    const auto n = static_cast<unsigned>(packets - done < kBurst ? packets - done : kBurst);
    for (unsigned i = 0; i < n; ++i) {
      load_template(burst.m[i], ring, next);
      if (++next == ring.size()) next = 0;
    }
    process(burst.m, n);
    rcu_quiescent();
    done += n;
  }
  return rte_rdtsc() - start;
}

}  // namespace

std::string describe_verdict(const dp::Verdict& v) {
  switch (v.kind) {
    case dp::Verdict::Kind::Transmit:
      return std::string("transmit on the ") + (v.out == dp::Side::Ipv4 ? "IPv4" : "IPv6") + " side";
    case dp::Verdict::Kind::Exception: return "exception";
    case dp::Verdict::Kind::Drop: return "drop (" + std::string(dp::drop_reason_name(v.reason)) + ")";
    case dp::Verdict::Kind::Reassemble: return "reassemble";
  }
  return "?";
}

void load_template(rte_mbuf* m, const TemplateRing& ring, uint32_t index) noexcept {
  const uint32_t len = ring.frame_len();
  m->data_off = RTE_PKTMBUF_HEADROOM;
  m->data_len = static_cast<uint16_t>(len);
  m->pkt_len = len;
  m->ol_flags = 0;  // no NIC verdicts: the pipeline checks the IPv4 header checksum itself
  std::memcpy(rte_pktmbuf_mtod(m, void*), ring.frame(index), len);
}

void run_ours(dp::PipelineContext& ctx, Scenario s, rte_mbuf* m, OursTally& tally) noexcept {
  dp::ExtraPackets extra;  // declared per frame, as the worker does
  const dp::Verdict v = dp::process_packet(ctx, arrival_side(s), m, extra);
  if (v.kind == dp::Verdict::Kind::Transmit && v.out == departure_side(s)) {
    ++tally.transmitted;
  } else if (tally.other++ == 0) {
    tally.first_other = v;
  }
  for (unsigned e = 0; e < extra.n; ++e) rte_pktmbuf_free(extra.pkt[e].m);
  tally.extra_packets += extra.n;
}

uint64_t time_copy_only(const TemplateRing& ring, WorkingBurst& burst, uint64_t packets) noexcept {
  return timed_loop(ring, burst, packets, [](rte_mbuf* const*, unsigned) {});
}

uint64_t time_bare(BareLoop& bare, Scenario s, const TemplateRing& ring, WorkingBurst& burst, uint64_t packets,
                   uint64_t& missed) noexcept {
  return timed_loop(ring, burst, packets,
                    [&](rte_mbuf* const* pkts, unsigned n) { missed += bare.run_burst(s, pkts, n); });
}

void run_ours_burst(dp::PipelineContext& ctx, Scenario s, rte_mbuf* const* pkts, unsigned n,
                    OursTally& tally) noexcept {
  dp::Verdict verdicts[kBurst];
  dp::ExtraPackets extra;  // one per burst, as the worker does
  dp::process_burst(ctx, arrival_side(s), pkts, n, verdicts, extra);
  for (unsigned i = 0; i < n; ++i) {
    if (verdicts[i].kind == dp::Verdict::Kind::Transmit && verdicts[i].out == departure_side(s)) {
      ++tally.transmitted;
    } else if (tally.other++ == 0) {
      tally.first_other = verdicts[i];
    }
  }
  for (unsigned e = 0; e < extra.n; ++e) rte_pktmbuf_free(extra.pkt[e].m);
  tally.extra_packets += extra.n;
}

uint64_t time_ours(dp::PipelineContext& ctx, Scenario s, const TemplateRing& ring, WorkingBurst& burst,
                   uint64_t packets, OursTally& tally) noexcept {
  return timed_loop(ring, burst, packets,
                    [&](rte_mbuf* const* pkts, unsigned n) { run_ours_burst(ctx, s, pkts, n, tally); });
}

uint64_t time_single(dp::PipelineContext& ctx, Scenario s, const TemplateRing& ring, WorkingBurst& burst,
                     uint64_t packets, OursTally& tally) noexcept {
  return timed_loop(ring, burst, packets, [&](rte_mbuf* const* pkts, unsigned n) {
    for (unsigned i = 0; i < n; ++i) run_ours(ctx, s, pkts[i], tally);
  });
}

}  // namespace tsp::perf
