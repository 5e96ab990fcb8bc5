// What dp_bench measures and how long: parsed from the command line once, read-only after.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "perf/scenario.hpp"
#include "perf/tunnel_picker.hpp"

namespace tsp::perf {

struct BenchOptions {
  std::vector<uint32_t> tunnels{1000, 1000000};  // one table per count, measured in turn
  std::vector<Scenario> scenarios{kScenarios.begin(), kScenarios.end()};
  uint64_t packets = 262144;          // per timed loop (one variant, one scenario, one round)
  unsigned rounds = 21;               // medians are taken over these
  std::optional<uint32_t> templates;  // prebuilt frames per scenario; default: templates_for()
  uint32_t payload = 64;              // UDP payload bytes of the inner IPv6 packet
  std::optional<unsigned> cpu;        // the core to pin to; default: the first one allowed
  uint64_t seed = 1;                  // tunnels and templates are reproducible from it
  std::vector<Distribution> distributions{Distribution::Uniform};  // how frames pick their tunnel
  double zipf_s = 1.0;                // Zipf exponent
  double updates_per_sec = 10000;     // tunnel replacements while "ours+upd" runs; 0: no such loop
  unsigned latency_samples = 200;     // update-to-forward probes per tunnel count; 0: none
  bool memory = true;                 // measure the table's memory per tunnel
  unsigned profile_ours = 0;          // > 0: after the checks, only this many ours loops per scenario (for perf record)
  unsigned profile_bare = 0;          // the same for the bare loop (the two may be combined)
  std::vector<unsigned> workers;      // multi-core scaling: worker counts to run ours with (empty: none)
};

// Frames per scenario for a table of `tunnels`: --templates if given, else 8192, or 65536 above
// 65536 tunnels, so that one pass over the ring hits more distinct tunnels than the caches
// hold (with 8192, a million-tunnel table would be measured warm).
uint32_t templates_for(const BenchOptions& opts, uint32_t tunnels);

// Fills `out` from argv. Returns an exit code when the program should stop now (--help: 0,
// bad arguments: CLI11's code, after printing why), nullopt to go on.
std::optional<int> parse_bench_options(int argc, char** argv, BenchOptions& out);

}  // namespace tsp::perf
