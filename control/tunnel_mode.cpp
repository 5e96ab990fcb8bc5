#include "control/tunnel_mode.hpp"

namespace tsp {

std::variant<ModeDecision, ModeRefusal> decide_tunnel_mode(std::string_view type, bool proxy,
                                                           Ipv4Addr declared, Ipv4Addr observed,
                                                           bool udp_session) {
  // A proxy request names another box's endpoint: nothing to detect, and only proto 41 can
  // reach a box that never spoke to us.
  if (proxy) {
    if (type == "v6v4" || type == "v6anyv4") return ModeDecision{OfferedMode::V6V4, false};
    return ModeRefusal{Status::UnsupportedTunnelType, "proxy tunnels are v6v4 only"};
  }
  const bool nat = declared != observed;
  if (type == "v6udpv4") {
    if (!udp_session) return ModeRefusal{Status::UnsupportedTunnelType, "v6udpv4 needs a UDP session"};
    return ModeDecision{OfferedMode::V6UDPV4, nat};
  }
  if (type == "v6v4") {
    // Protocol 41 does not cross a NAT; refusing beats a tunnel that silently never works.
    if (nat) return ModeRefusal{Status::UnsupportedTunnelType, "v6v4 through a NAT; use v6anyv4 or v6udpv4"};
    return ModeDecision{OfferedMode::V6V4, false};
  }
  if (type == "v6anyv4") {
    if (!nat) return ModeDecision{OfferedMode::V6V4, false};
    if (!udp_session) return ModeRefusal{Status::UnsupportedTunnelType, "NAT detected on a TCP session: v6udpv4 needs UDP"};
    return ModeDecision{OfferedMode::V6UDPV4, true};
  }
  if (type == "v4v6") return ModeRefusal{Status::UnsupportedTunnelType, "v4v6 is not offered by this broker"};
  return ModeRefusal{Status::UnsupportedTunnelType, "unknown tunnel type"};
}

}  // namespace tsp
