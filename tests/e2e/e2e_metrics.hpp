// The daemon's Prometheus /metrics as the e2e tests read it (`metrics listen 127.0.0.1 PORT`
// among BrokerSettings::global_lines).
#pragma once

#include <cstdlib>
#include <string>

#include "tests/e2e/polling.hpp"
#include "tests/e2e/tsp_test_client.hpp"

namespace tsp::e2e {

// GET /metrics over HTTP/1.1 with "Connection: close": the whole response.
inline std::string scrape_metrics(uint16_t metrics_port) {
  TcpClient c(metrics_port);
  c.send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  std::string response;
  while (true) {
    TcpRead r = c.recv_once();
    if (r.kind != TcpRead::Kind::Data) break;
    response += r.data;
  }
  return response;
}

// The value of the line that starts with `series` ("name{labels}" or a bare name), -1 when
// missing.
inline long long metric_sample(const std::string& text, const std::string& series) {
  const auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::atoll(text.c_str() + at + 2 + series.size());
}

// Polls `read` until it returns `wanted` (10 s at most, polling.hpp); the last value read.
template <typename F>
long long await_value(F read, long long wanted) {
  long long v = 0;
  eventually([&] { return (v = read()) == wanted; });
  return v;
}

// await_value() of one series of /metrics.
inline long long await_sample(uint16_t metrics_port, const std::string& series, long long wanted) {
  return await_value([&] { return metric_sample(scrape_metrics(metrics_port), series); }, wanted);
}

}  // namespace tsp::e2e
