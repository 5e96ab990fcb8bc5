// Router advertisements for the delegated prefix (RFC 4861 §4.2, §4.6): what tspc sends on
// if_prefix in router mode so hosts on that LAN autoconfigure (SLAAC needs a /64: a /48 is
// advertised as its first /64, which the template puts on the interface). Pure bytes here;
// router_advertiser.hpp sends them.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "shared/net_types.hpp"

namespace tsp::tspc {

inline constexpr uint8_t kIcmpRouterSolicitation = 133;
inline constexpr uint8_t kIcmpRouterAdvertisement = 134;

struct RouterAdvertisement {
  Ipv6Prefix prefix;                 // a /64
  uint16_t router_lifetime_s = 90;   // 0 on the last one: "stop using me as default router"
  uint32_t valid_lifetime_s = 3600;
  uint32_t preferred_lifetime_s = 1800;
  uint32_t mtu = 1280;               // the tunnel's MTU: LAN hosts must not send more
  uint8_t cur_hop_limit = 64;
};

// The ICMPv6 message (header + prefix information option with L and A + MTU option), its
// checksum computed over the pseudo-header of `source` -> `destination`.
std::vector<uint8_t> build_router_advertisement(const RouterAdvertisement& ra, const Ipv6Addr& source,
                                                const Ipv6Addr& destination);

// The /64 to advertise for a delegated prefix: itself if /64, its first /64 if shorter;
// nullopt if longer than /64 (no SLAAC possible).
std::optional<Ipv6Prefix> advertised_prefix(const Ipv6Prefix& delegated);

// An ICMPv6 router solicitation as a raw ICMPv6 socket returns it (type 133, code 0, at least
// the 8-byte header).
bool is_router_solicitation(std::span<const uint8_t> icmp);

}  // namespace tsp::tspc
