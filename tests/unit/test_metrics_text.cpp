// The Prometheus text format: exact output, escaping, value formatting and the checks on
// names that keep a collector bug from producing a file Prometheus would reject.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "control/metrics/prometheus_text.hpp"

using namespace tsp::metrics;

TEST_CASE("families render as HELP, TYPE, then one line per sample, in order", "[metrics][text]") {
  std::vector<MetricFamily> families;
  families.push_back(counter_family("tspbroker_tsp_sessions_total", "TSP session outcomes")
                         .add({{"result", "accepted"}}, uint64_t{3})
                         .add({{"result", "refused"}}, uint64_t{0}));
  families.push_back(gauge_family("tspbroker_tunnels_anonymous", "Live anonymous tunnels").add({}, uint64_t{7}));
  families.push_back(gauge_family("tspbroker_pool_used_blocks", "Used").add({{"pool", "P1"}, {"kind", "x"}}, 1.5));
  families.push_back(gauge_family("tspbroker_empty", "A family without samples"));

  CHECK(render_prometheus_text(families) ==
        "# HELP tspbroker_tsp_sessions_total TSP session outcomes\n"
        "# TYPE tspbroker_tsp_sessions_total counter\n"
        "tspbroker_tsp_sessions_total{result=\"accepted\"} 3\n"
        "tspbroker_tsp_sessions_total{result=\"refused\"} 0\n"
        "# HELP tspbroker_tunnels_anonymous Live anonymous tunnels\n"
        "# TYPE tspbroker_tunnels_anonymous gauge\n"
        "tspbroker_tunnels_anonymous 7\n"
        "# HELP tspbroker_pool_used_blocks Used\n"
        "# TYPE tspbroker_pool_used_blocks gauge\n"
        "tspbroker_pool_used_blocks{pool=\"P1\",kind=\"x\"} 1.5\n"
        "# HELP tspbroker_empty A family without samples\n"
        "# TYPE tspbroker_empty gauge\n");
}

TEST_CASE("label values escape backslash, double quote and newline, nothing else", "[metrics][text]") {
  CHECK(escape_label_value(R"(a\b)") == R"(a\\b)");
  CHECK(escape_label_value("say \"hi\"") == R"(say \"hi\")");
  CHECK(escape_label_value("two\nlines") == R"(two\nlines)");
  CHECK(escape_label_value("tab\there, {braces}, =, 'quote', ünïcödé") == "tab\there, {braces}, =, 'quote', ünïcödé");
  CHECK(escape_label_value("") == "");

  std::vector<MetricFamily> families;
  families.push_back(gauge_family("m", "h").add({{"user", "bob\"\\\n"}}, uint64_t{1}));
  CHECK(render_prometheus_text(families) == "# HELP m h\n# TYPE m gauge\nm{user=\"bob\\\"\\\\\\n\"} 1\n");
}

TEST_CASE("HELP text escapes backslash and newline but keeps double quotes", "[metrics][text]") {
  CHECK(escape_help("a \"quoted\" \\ word\nnext") == "a \"quoted\" \\\\ word\\nnext");
}

TEST_CASE("values: integers exactly, doubles shortest, NaN and infinities spelled out", "[metrics][text]") {
  CHECK(format_value(uint64_t{0}) == "0");
  CHECK(format_value(std::numeric_limits<uint64_t>::max()) == "18446744073709551615");
  CHECK(format_value(0.25) == "0.25");
  CHECK(format_value(-3.0) == "-3");
  CHECK(format_value(1e21) == "1e+21");
  CHECK(format_value(std::numeric_limits<double>::quiet_NaN()) == "NaN");
  CHECK(format_value(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(format_value(-std::numeric_limits<double>::infinity()) == "-Inf");
}

TEST_CASE("metric and label names follow the Prometheus grammar", "[metrics][text]") {
  CHECK(valid_metric_name("tspbroker_tsp_sessions_total"));
  CHECK(valid_metric_name("_x:y1"));
  CHECK(valid_metric_name(":recording:rule"));
  CHECK_FALSE(valid_metric_name(""));
  CHECK_FALSE(valid_metric_name("1abc"));
  CHECK_FALSE(valid_metric_name("has-dash"));
  CHECK_FALSE(valid_metric_name("has space"));

  CHECK(valid_label_name("worker"));
  CHECK(valid_label_name("_x1"));
  CHECK_FALSE(valid_label_name(""));
  CHECK_FALSE(valid_label_name("__reserved"));
  CHECK_FALSE(valid_label_name("a:b"));
  CHECK_FALSE(valid_label_name("9lives"));
}

TEST_CASE("a bad name, a repeated label or a repeated family is refused, not rendered", "[metrics][text]") {
  SECTION("metric name") {
    std::vector<MetricFamily> f{gauge_family("bad-name", "h")};
    CHECK_THROWS_AS(render_prometheus_text(f), std::invalid_argument);
  }
  SECTION("label name") {
    std::vector<MetricFamily> f{gauge_family("m", "h").add({{"__name__", "x"}}, uint64_t{1})};
    CHECK_THROWS_AS(render_prometheus_text(f), std::invalid_argument);
  }
  SECTION("label twice") {
    std::vector<MetricFamily> f{gauge_family("m", "h").add({{"a", "1"}, {"a", "2"}}, uint64_t{1})};
    CHECK_THROWS_AS(render_prometheus_text(f), std::invalid_argument);
  }
  SECTION("family twice") {
    std::vector<MetricFamily> f{gauge_family("m", "h"), counter_family("m", "h")};
    CHECK_THROWS_AS(render_prometheus_text(f), std::invalid_argument);
  }
}
