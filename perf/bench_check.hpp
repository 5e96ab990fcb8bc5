// Before anything is timed: the pipeline forwards every template of the scenario, the bare
// loop writes the very same frame for it, and so does the burst path. Otherwise the two loops would not be doing the same
// work and their ratio would mean nothing.
#pragma once

#include <cstdint>

#include "perf/bare_loop.hpp"
#include "perf/bench_eal.hpp"
#include "perf/bench_packets.hpp"
#include "perf/bench_world.hpp"

namespace tsp::perf {

// Checks the first `how_many` templates (all of them if there are fewer). Throws
// std::runtime_error naming the scenario, the template and what differs.
void check_bare_matches_ours(BenchWorld& world, BareLoop& bare, Scenario s, const TemplateRing& ring,
                             WorkingBurst& burst, uint32_t how_many);

// TunnelTable's bulk lookups against the single ones, on every tunnel's keys (at most the
// first `how_many` tunnels) and as many keys that miss. Throws std::runtime_error.
void check_bulk_lookups(const BenchWorld& world, uint32_t how_many);

// process_burst (the worker's path) against process_packet (the reference) on the first
// `how_many` templates, kBurst at a time: the same verdicts and the very same bytes. Needs a
// second burst of mbufs from `pool`. Throws std::runtime_error like the check above.
void check_burst_matches_single(BenchWorld& world, Scenario s, const TemplateRing& ring, WorkingBurst& burst,
                                rte_mempool* pool, uint32_t how_many);

}  // namespace tsp::perf
