// Which tunnel a request gets (tsp-protocol.md §5.4, §7): NAT detection compares the IPv4
// address the client declares with the source we observe; IPv6-in-UDP only rides a UDP session
// because the client relays data over its TSP socket.
#pragma once

#include <string_view>
#include <variant>

#include "control/status_codes.hpp"
#include "shared/net_types.hpp"

namespace tsp {

enum class OfferedMode { V6V4, V6UDPV4 };

struct ModeDecision {
  OfferedMode mode;
  bool nat_detected;
};

struct ModeRefusal {
  Status status;
  const char* reason;
};

std::variant<ModeDecision, ModeRefusal> decide_tunnel_mode(std::string_view requested_type, bool proxy,
                                                           Ipv4Addr declared, Ipv4Addr observed,
                                                           bool udp_session);

constexpr std::string_view to_string(OfferedMode m) { return m == OfferedMode::V6V4 ? "v6v4" : "v6udpv4"; }

}  // namespace tsp
