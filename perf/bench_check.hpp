// Before anything is timed: the pipeline forwards every template of the scenario, and the bare
// loop writes the very same frame for it. Otherwise the two loops would not be doing the same
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

}  // namespace tsp::perf
