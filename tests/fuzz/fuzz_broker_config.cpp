// Fuzz target for the config parser: any text gives a Config or a ConfigError, nothing else
// (no other exception, crash, sanitizer report or leak), and a Config that came back is
// consistent enough for the daemon to use without checking it again.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config/broker_config.hpp"

using namespace tsp::config;

static void require(bool ok) {
  if (!ok) std::abort();
}

static void check_consistent(const Config& config) {
  const auto& tsp = config.tsp();
  require(tsp.udp_port || tsp.tcp_port);
  require(!tsp.auth.empty());
  const auto& server = config.tunnel_server();
  const auto* endpoints = config.find_pool(server.endpoint_pool);
  require(endpoints && endpoints->block_len == 128);
  require(endpoints->range.contains(server.ipv6_address));
  for (const auto& name : server.prefix_pools) {
    const auto* pool = config.find_pool(name);
    require(pool && pool->block_len <= 64 && pool->block_len >= pool->range.len);
  }
  require(server.mtu >= 1280);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    check_consistent(parse_config(text, "fuzz.conf"));
  } catch (const ConfigError& e) {
    require(!e.reason().empty() && e.file() == "fuzz.conf" && e.line() >= 0);
  }
  return 0;
}
