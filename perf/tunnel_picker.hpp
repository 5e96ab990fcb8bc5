// Which tunnel each prebuilt frame goes to: uniformly random, or Zipf-distributed (a few
// tunnels carry most of the traffic, as on a real broker). Popularity ranks are shuffled over
// the ids, so the popular tunnels are not neighbours in memory.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string_view>
#include <vector>

#include "perf/bench_world.hpp"

namespace tsp::perf {

enum class Distribution : uint8_t { Uniform, Zipf };

constexpr std::string_view distribution_name(Distribution d) { return d == Distribution::Uniform ? "uniform" : "zipf"; }
constexpr std::optional<Distribution> distribution_from_name(std::string_view name) {
  if (name == "uniform") return Distribution::Uniform;
  if (name == "zipf") return Distribution::Zipf;
  return std::nullopt;
}

class TunnelPicker {
 public:
  // Over the world's tunnels of `mode`; Zipf: P(rank k) proportional to 1 / k^zipf_s.
  TunnelPicker(const BenchWorld& world, TunnelMode mode, Distribution d, double zipf_s, uint64_t seed);

  const TunnelEntry& pick(std::mt19937_64& rng) const;

 private:
  const BenchWorld& world_;
  Distribution distribution_;
  std::vector<uint32_t> ids_;  // the mode's ids, by popularity rank (Zipf) or in id order
  std::vector<double> cdf_;    // Zipf: cumulative probability up to each rank
};

}  // namespace tsp::perf
