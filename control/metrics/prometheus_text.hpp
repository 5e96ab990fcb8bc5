// The Prometheus text exposition format, version 0.0.4: for each family a `# HELP` and a
// `# TYPE` line, then one `name{label="value",...} value` line per sample.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "control/metrics/metric_family.hpp"

namespace tsp::metrics {

// What the HTTP endpoint puts in its Content-Type header.
inline constexpr std::string_view kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool valid_metric_name(std::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]*, and not starting with "__" (reserved for Prometheus itself).
bool valid_label_name(std::string_view name);

// HELP text: backslash and newline escaped.
std::string escape_help(std::string_view text);
// Label values: backslash, double quote and newline escaped.
std::string escape_label_value(std::string_view text);
// Integers exactly; doubles shortest round-trip, with NaN, +Inf and -Inf spelled as Prometheus
// reads them.
std::string format_value(const std::variant<uint64_t, double>& value);

// Renders every family in order. Throws std::invalid_argument on a bad metric or label name,
// a label name twice in one sample, or two families of the same name: those are bugs in
// the collector, never something a client can cause.
std::string render_prometheus_text(const std::vector<MetricFamily>& families);

}  // namespace tsp::metrics
