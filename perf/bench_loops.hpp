// The four timed loops. Each runs `packets` frames of a template ring through the working
// burst, kBurst at a time, the way a poll loop would see them:
//   1. load: copy the next templates into the burst's mbufs (resetting offset and lengths),
//      standing in for rte_eth_rx_burst;
//   2. process: nothing (copy only), the bare loop, process_burst on the burst (ours, the
//      worker's path) or process_packet on each frame (single);
//   3. "transmit": the mbufs are simply reused by the next burst;
//   4. report an RCU quiescent state, as the worker does once per loop.
// Steps 1, 3 and 4 are the same in all four, so "copy only" measures what the others
// carry besides their processing, and is subtracted from them.
#pragma once

#include <cstdint>
#include <string>

#include "dataplane/pipeline.hpp"
#include "perf/bare_loop.hpp"
#include "perf/bench_eal.hpp"
#include "perf/bench_packets.hpp"

namespace tsp::perf {

// What process_packet answered, for checking that every frame went the measured path.
struct OursTally {
  uint64_t transmitted = 0;    // Transmit verdicts on the scenario's expected side
  uint64_t other = 0;          // anything else
  uint64_t extra_packets = 0;  // ARP/NS requests built (freed)
  dp::Verdict first_other;     // the first unexpected verdict
};

// TSC cycles for each loop.
uint64_t time_copy_only(const TemplateRing& ring, WorkingBurst& burst, uint64_t packets) noexcept;
uint64_t time_bare(BareLoop& bare, Scenario s, const TemplateRing& ring, WorkingBurst& burst, uint64_t packets,
                   uint64_t& missed) noexcept;
// Ours is the worker's path, process_burst; "single" is process_packet frame by frame.
uint64_t time_ours(dp::PipelineContext& ctx, Scenario s, const TemplateRing& ring, WorkingBurst& burst,
                   uint64_t packets, OursTally& tally) noexcept;
uint64_t time_single(dp::PipelineContext& ctx, Scenario s, const TemplateRing& ring, WorkingBurst& burst,
                     uint64_t packets, OursTally& tally) noexcept;

// Loads template `index` into `m`, as step 1 does.
void load_template(rte_mbuf* m, const TemplateRing& ring, uint32_t index) noexcept;
// "transmit on the IPv6 side", "drop (no_tunnel)", ...
std::string describe_verdict(const dp::Verdict& v);
// process_packet on one frame, tallied as time_single does.
void run_ours(dp::PipelineContext& ctx, Scenario s, rte_mbuf* m, OursTally& tally) noexcept;
// process_burst on n <= kBurst frames, tallied as time_ours does.
void run_ours_burst(dp::PipelineContext& ctx, Scenario s, rte_mbuf* const* pkts, unsigned n,
                    OursTally& tally) noexcept;

}  // namespace tsp::perf
