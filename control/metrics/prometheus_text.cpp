#include "control/metrics/prometheus_text.hpp"

#include <charconv>
#include <cmath>
#include <set>

namespace tsp::metrics {

namespace {

bool is_alpha_or_underscore(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string_view type_name(MetricType t) { return t == MetricType::counter ? "counter" : "gauge"; }

void append_sample(std::string& out, const std::string& name, const Sample& sample) {
  out += name;
  if (!sample.labels.empty()) {
    out += '{';
    for (size_t i = 0; i < sample.labels.size(); ++i) {
      const auto& [label, value] = sample.labels[i];
      if (!valid_label_name(label)) throw std::invalid_argument("metric " + name + ": bad label name '" + label + "'");
      for (size_t j = 0; j < i; ++j) {
        if (sample.labels[j].first == label)
          throw std::invalid_argument("metric " + name + ": label '" + label + "' given twice");
      }
      if (i > 0) out += ',';
      out += label;
      out += "=\"";
      out += escape_label_value(value);
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  out += format_value(sample.value);
  out += '\n';
}

}  // namespace

bool valid_metric_name(std::string_view name) {
  if (name.empty() || !(is_alpha_or_underscore(name[0]) || name[0] == ':')) return false;
  for (char c : name)
    if (!(is_alpha_or_underscore(c) || is_digit(c) || c == ':')) return false;
  return true;
}

bool valid_label_name(std::string_view name) {
  if (name.empty() || !is_alpha_or_underscore(name[0]) || name.substr(0, 2) == "__") return false;
  for (char c : name)
    if (!(is_alpha_or_underscore(c) || is_digit(c))) return false;
  return true;
}

std::string escape_help(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string escape_label_value(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string format_value(const std::variant<uint64_t, double>& value) {
  if (const auto* u = std::get_if<uint64_t>(&value)) return std::to_string(*u);
  const double d = std::get<double>(value);
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, res.ptr);
}

std::string render_prometheus_text(const std::vector<MetricFamily>& families) {
  std::string out;
  std::set<std::string_view> seen;
  for (const auto& family : families) {
    if (!valid_metric_name(family.name)) throw std::invalid_argument("bad metric name '" + family.name + "'");
    if (!seen.insert(family.name).second) throw std::invalid_argument("metric " + family.name + " given twice");
    out += "# HELP ";
    out += family.name;
    out += ' ';
    out += escape_help(family.help);
    out += "\n# TYPE ";
    out += family.name;
    out += ' ';
    out += type_name(family.type);
    out += '\n';
    for (const auto& sample : family.samples) append_sample(out, family.name, sample);
  }
  return out;
}

}  // namespace tsp::metrics
