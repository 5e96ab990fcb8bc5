#include "perf/tunnel_picker.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace tsp::perf {

TunnelPicker::TunnelPicker(const BenchWorld& world, TunnelMode mode, Distribution d, double zipf_s, uint64_t seed)
    : world_(world), distribution_(d) {
  // Even ids are protocol 41, odd ids UDP (bench_world.hpp).
  for (uint32_t id = mode == TunnelMode::V6V4 ? 0 : 1; id < world.tunnel_count(); id += 2) ids_.push_back(id);
  if (ids_.empty()) throw std::runtime_error("no tunnel of mode " + std::string(to_string(mode)) + " in the table");
  if (d == Distribution::Uniform) return;
  std::mt19937_64 rng(seed);
  std::shuffle(ids_.begin(), ids_.end(), rng);
  cdf_.resize(ids_.size());
  double sum = 0;
  for (size_t k = 0; k < ids_.size(); ++k) cdf_[k] = sum += 1.0 / std::pow(static_cast<double>(k + 1), zipf_s);
  for (double& c : cdf_) c /= sum;
}

const TunnelEntry& TunnelPicker::pick(std::mt19937_64& rng) const {
  if (distribution_ == Distribution::Uniform) {
    return world_.tunnel(ids_[std::uniform_int_distribution<size_t>(0, ids_.size() - 1)(rng)]);
  }
  const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  const size_t rank = static_cast<size_t>(std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin());
  return world_.tunnel(ids_[std::min(rank, ids_.size() - 1)]);
}

}  // namespace tsp::perf
