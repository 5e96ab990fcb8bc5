// The four measured scenarios: which port a frame arrives on, which way it goes, which mode.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "dataplane/pipeline.hpp"
#include "shared/tunnel_entry.hpp"

namespace tsp::perf {

enum class Scenario : uint8_t {
  Decap41,   // IPv4 port: proto-41 from a client, inner packet to the Internet
  DecapUdp,  // IPv4 port: UDP from a client, same inside
  Encap41,   // uplink: toward a proto-41 tunnel's /128 or prefix
  EncapUdp,  // uplink: toward a UDP tunnel's /128 or prefix
};
inline constexpr std::array<Scenario, 4> kScenarios = {Scenario::Decap41, Scenario::DecapUdp, Scenario::Encap41,
                                                       Scenario::EncapUdp};

constexpr std::string_view scenario_name(Scenario s) {
  switch (s) {
    case Scenario::Decap41: return "decap-41";
    case Scenario::DecapUdp: return "decap-udp";
    case Scenario::Encap41: return "encap-41";
    case Scenario::EncapUdp: return "encap-udp";
  }
  return "?";
}

constexpr std::optional<Scenario> scenario_from_name(std::string_view name) {
  for (Scenario s : kScenarios) {
    if (scenario_name(s) == name) return s;
  }
  return std::nullopt;
}

constexpr bool is_decap(Scenario s) { return s == Scenario::Decap41 || s == Scenario::DecapUdp; }
constexpr TunnelMode tunnel_mode(Scenario s) {
  return s == Scenario::Decap41 || s == Scenario::Encap41 ? TunnelMode::V6V4 : TunnelMode::V6UDPV4;
}
constexpr dp::Side arrival_side(Scenario s) { return is_decap(s) ? dp::Side::Ipv4 : dp::Side::Ipv6; }
constexpr dp::Side departure_side(Scenario s) { return is_decap(s) ? dp::Side::Ipv6 : dp::Side::Ipv4; }

}  // namespace tsp::perf
