#include <catch2/catch.hpp>

#include "control/tunnel_mode.hpp"

using namespace tsp;

namespace {
const Ipv4Addr kPrivate = *Ipv4Addr::parse("192.168.1.10");
const Ipv4Addr kPublic = *Ipv4Addr::parse("198.51.100.7");

std::variant<ModeDecision, ModeRefusal> decide(const char* type, Ipv4Addr declared, bool udp, bool proxy = false) {
  return decide_tunnel_mode(type, proxy, declared, kPublic, udp);
}
OfferedMode mode_of(const std::variant<ModeDecision, ModeRefusal>& d) { return std::get<ModeDecision>(d).mode; }
Status refusal_of(const std::variant<ModeDecision, ModeRefusal>& d) { return std::get<ModeRefusal>(d).status; }
}  // namespace

TEST_CASE("v6anyv4 gives v6v4 without NAT and v6udpv4 behind one") {
  CHECK(mode_of(decide("v6anyv4", kPublic, true)) == OfferedMode::V6V4);
  CHECK(mode_of(decide("v6anyv4", kPublic, false)) == OfferedMode::V6V4);
  auto natted = decide("v6anyv4", kPrivate, true);
  CHECK(mode_of(natted) == OfferedMode::V6UDPV4);
  CHECK(std::get<ModeDecision>(natted).nat_detected);
  CHECK(refusal_of(decide("v6anyv4", kPrivate, false)) == Status::UnsupportedTunnelType);
}

TEST_CASE("explicit modes") {
  CHECK(mode_of(decide("v6v4", kPublic, false)) == OfferedMode::V6V4);
  CHECK(refusal_of(decide("v6v4", kPrivate, true)) == Status::UnsupportedTunnelType);
  CHECK(mode_of(decide("v6udpv4", kPublic, true)) == OfferedMode::V6UDPV4);
  CHECK(mode_of(decide("v6udpv4", kPrivate, true)) == OfferedMode::V6UDPV4);
  CHECK(refusal_of(decide("v6udpv4", kPublic, false)) == Status::UnsupportedTunnelType);
  CHECK(refusal_of(decide("v4v6", kPublic, true)) == Status::UnsupportedTunnelType);
  CHECK(refusal_of(decide("", kPublic, true)) == Status::UnsupportedTunnelType);
}

TEST_CASE("proxy requests skip NAT detection and are v6v4 only") {
  CHECK(mode_of(decide("v6v4", kPrivate, true, true)) == OfferedMode::V6V4);
  CHECK(mode_of(decide("v6anyv4", kPrivate, false, true)) == OfferedMode::V6V4);
  CHECK(refusal_of(decide("v6udpv4", kPrivate, true, true)) == Status::UnsupportedTunnelType);
}
