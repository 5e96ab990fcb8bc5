#include "tools/tunnel/relay_counters.hpp"

namespace tsp::tunnel {

std::string format_relay_counters(const RelayCounters& c) {
  std::string out;
#define TSP_RELAY_LINE(name, text) out += "relay." #name "=" + std::to_string(c.name) + "\n";
  TSP_RELAY_COUNTERS(TSP_RELAY_LINE)
#undef TSP_RELAY_LINE
  return out;
}

}  // namespace tsp::tunnel
