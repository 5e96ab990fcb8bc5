#include "perf/bench_check.hpp"

#include <random>
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

std::string first_difference(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b, const char* a_name = "pipeline",
                             const char* b_name = "bare") {
  const std::string an = std::string(" (") + a_name + ")", bn = std::string(" (") + b_name + ")";
  if (a.size() != b.size()) return "lengths " + std::to_string(a.size()) + an + " and " + std::to_string(b.size()) + bn;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return "byte " + std::to_string(i) + ": " + std::to_string(a[i]) + an + ", " + std::to_string(b[i]) + bn;
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

void check_bulk_lookups(const BenchWorld& world, uint32_t how_many) {
  const uint32_t n = how_many < world.tunnel_count() ? how_many : world.tunnel_count();
  std::mt19937_64 rng(n);
  std::vector<TunnelTable::DecapKey> decap_keys;
  std::vector<Ipv6Addr> encap_keys;
  for (uint32_t id = 0; id < n; ++id) {
    const TunnelEntry& t = world.tunnel(id);
    decap_keys.push_back({t.mode, t.client_v4, t.client_port});
    decap_keys.push_back({t.mode, Ipv4Addr{t.client_v4.value ^ 0x01000000u}, t.client_port});  // 11.x or 9.x: a miss
    encap_keys.push_back(t.client_v6);
    encap_keys.push_back(random_address_in(t.client_v6, 64, rng));  // mostly a miss
    if (t.has_prefix()) encap_keys.push_back(random_address_in(t.prefix, t.prefix_len, rng));
  }
  const TunnelTable& table = world.table;
  std::vector<const TunnelEntry*> decap_out(decap_keys.size()), encap_out(encap_keys.size());
  table.find_decap_bulk(decap_keys.data(), decap_keys.size(), decap_out.data());
  table.find_encap_bulk(encap_keys.data(), encap_keys.size(), encap_out.data());
  for (size_t i = 0; i < decap_keys.size(); ++i) {
    const TunnelTable::DecapKey& k = decap_keys[i];
    const TunnelEntry* single = k.mode == TunnelMode::V6V4 ? table.find_decap_proto41(k.outer_src)
                                                            : table.find_decap_udp(k.outer_src, k.src_port);
    if (single != decap_out[i]) throw std::runtime_error("find_decap_bulk differs from the single lookup, key " + std::to_string(i));
  }
  for (size_t i = 0; i < encap_keys.size(); ++i) {
    if (table.find_encap(encap_keys[i]) != encap_out[i]) {
      throw std::runtime_error("find_encap_bulk differs from find_encap for " + encap_keys[i].to_string());
    }
  }
  rcu_quiescent();
}

void check_burst_matches_single(BenchWorld& world, Scenario s, const TemplateRing& ring, WorkingBurst& burst,
                                rte_mempool* pool, uint32_t how_many) {
  WorkingBurst single(pool);
  const uint32_t total = how_many < ring.size() ? how_many : ring.size();
  for (uint32_t base = 0; base < total; base += kBurst) {
    const unsigned n = total - base < kBurst ? total - base : kBurst;
    const uint16_t first_id = world.ctx.next_ipv4_id;
    dp::Verdict single_verdicts[kBurst];
    for (unsigned i = 0; i < n; ++i) {
      load_template(single.m[i], ring, base + i);
      dp::ExtraPackets extra;
      single_verdicts[i] = dp::process_packet(world.ctx, arrival_side(s), single.m[i], extra);
      for (unsigned e = 0; e < extra.n; ++e) rte_pktmbuf_free(extra.pkt[e].m);
    }
    world.ctx.next_ipv4_id = first_id;  // so the outer IPv4 identifications agree
    for (unsigned i = 0; i < n; ++i) load_template(burst.m[i], ring, base + i);
    dp::Verdict burst_verdicts[kBurst];
    dp::ExtraPackets extra;
    dp::process_burst(world.ctx, arrival_side(s), burst.m, n, burst_verdicts, extra);
    for (unsigned e = 0; e < extra.n; ++e) rte_pktmbuf_free(extra.pkt[e].m);
    rcu_quiescent();
    for (unsigned i = 0; i < n; ++i) {
      const std::string where = std::string(scenario_name(s)) + " template " + std::to_string(base + i) + ": ";
      if (describe_verdict(single_verdicts[i]) != describe_verdict(burst_verdicts[i])) {
        throw std::runtime_error(where + "process_burst said " + describe_verdict(burst_verdicts[i]) +
                                 ", process_packet " + describe_verdict(single_verdicts[i]));
      }
      const std::vector<uint8_t> a = frame_bytes(single.m[i]), b = frame_bytes(burst.m[i]);
      if (a != b) throw std::runtime_error(where + "process_burst and process_packet differ, " + first_difference(a, b, "process_packet", "process_burst"));
    }
  }
}

}  // namespace tsp::perf
