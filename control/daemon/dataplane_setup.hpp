// The glue between the broker's configuration and the DPDK dataplane: the dataplane's
// settings from the config, starting it (or refusing when built without it), waiting for the
// exception tap's address, and the counters logged at exit.
#pragma once

#include <memory>

#include "config/broker_config.hpp"
#include "dataplane/dataplane.hpp"
#include "shared/net_types.hpp"

namespace tsp {
class TunnelTable;
}

namespace tsp::daemon {

// The dataplane block, with what the tsp, tunnel server and limit statements say about tunnels.
dp::DataplaneConfig dataplane_config(const config::Config& cfg);

// Throws std::runtime_error with a clear reason (also when built without DPDK).
std::unique_ptr<dp::Dataplane> start_dataplane(const dp::DataplaneConfig& cfg, const TunnelTable& table);

// The tap that carries the broker's address came up a moment ago: wait (5 s at most) until
// the kernel lets a socket bind to it.
bool wait_until_bindable(Ipv4Addr address);

// One line per worker, then the sums on one line of NAME=VALUE pairs (for scripts).
void log_dataplane_counters(const dp::DataplaneStats& stats);

}  // namespace tsp::daemon
