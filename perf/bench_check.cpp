#include "perf/bench_check.hpp"

#include <stdexcept>
#include <string>
#include <vector>

#include "perf/bench_loops.hpp"
#include "shared/rcu.hpp"

namespace tsp::perf {

namespace {

std::vector<uint8_t> frame_bytes(const rte_mbuf* m) {
  const auto* data = rte_pktmbuf_mtod(m, const uint8_t*);
  return {data, data + rte_pktmbuf_data_len(m)};
}

std::string first_difference(const std::vector<uint8_t>& ours, const std::vector<uint8_t>& bare) {
  if (ours.size() != bare.size()) {
    return "lengths " + std::to_string(ours.size()) + " (pipeline) and " + std::to_string(bare.size()) + " (bare)";
  }
  for (size_t i = 0; i < ours.size(); ++i) {
    if (ours[i] != bare[i]) {
      return "byte " + std::to_string(i) + ": " + std::to_string(ours[i]) + " (pipeline), " + std::to_string(bare[i]) +
             " (bare)";
    }
  }
  return "nothing";
}

}  // namespace

void check_bare_matches_ours(BenchWorld& world, BareLoop& bare, Scenario s, const TemplateRing& ring,
                             WorkingBurst& burst, uint32_t how_many) {
  const uint32_t n = how_many < ring.size() ? how_many : ring.size();
  rte_mbuf* ours_m = burst.m[0];
  rte_mbuf* bare_m = burst.m[1];
  for (uint32_t i = 0; i < n; ++i) {
    const std::string where = std::string(scenario_name(s)) + " template " + std::to_string(i) + ": ";
    load_template(ours_m, ring, i);
    load_template(bare_m, ring, i);
    bare.next_ipv4_id = world.ctx.next_ipv4_id;  // so the outer IPv4 identifications agree
    OursTally tally;
    run_ours(world.ctx, s, ours_m, tally);
    const unsigned missed = bare.run_burst(s, &bare_m, 1);
    rcu_quiescent();
    if (tally.other != 0)
      throw std::runtime_error(where + "the pipeline did not forward it: " + describe_verdict(tally.first_other));
    if (tally.extra_packets != 0) throw std::runtime_error(where + "the pipeline built an ARP/NS request");
    if (missed != 0) throw std::runtime_error(where + "the bare loop found no tunnel");
    const std::vector<uint8_t> ours = frame_bytes(ours_m), bare_out = frame_bytes(bare_m);
    if (ours != bare_out) throw std::runtime_error(where + "the frames differ, " + first_difference(ours, bare_out));
  }
}

}  // namespace tsp::perf
