// A metric family as the Prometheus text format knows it: one name, one HELP, one TYPE, and
// samples that differ by their labels. Plain values: the collector builds them, the renderer
// writes them.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace tsp::metrics {

enum class MetricType { counter, gauge };

using Labels = std::vector<std::pair<std::string, std::string>>;

struct Sample {
  Labels labels;
  std::variant<uint64_t, double> value;  // integers are written exactly
};

struct MetricFamily {
  std::string name;  // with its unit and _total suffix (Prometheus conventions)
  std::string help;
  MetricType type = MetricType::gauge;
  std::vector<Sample> samples;

  MetricFamily& add(Labels labels, std::variant<uint64_t, double> value) {
    samples.push_back({std::move(labels), value});
    return *this;
  }
};

inline MetricFamily counter_family(std::string name, std::string help) {
  return {std::move(name), std::move(help), MetricType::counter, {}};
}
inline MetricFamily gauge_family(std::string name, std::string help) {
  return {std::move(name), std::move(help), MetricType::gauge, {}};
}

}  // namespace tsp::metrics
