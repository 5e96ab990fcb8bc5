// One tunnel as the dataplane sees it. Plain data without pointers: the control plane fills
// one in, the TunnelTable copies it into an immutable RCU-published node.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

#include "shared/net_types.hpp"

namespace tsp {

enum class TunnelMode : uint8_t {
  V6V4 = 1,     // IPv6 in IPv4, protocol 41
  V6UDPV4 = 2,  // IPv6 in UDP over IPv4 (through NAT)
};

constexpr std::string_view to_string(TunnelMode m) {
  switch (m) {
    case TunnelMode::V6V4: return "v6v4";
    case TunnelMode::V6UDPV4: return "v6udpv4";
  }
  return "invalid";
}

// The smallest MTU an IPv6 link may have (RFC 8200 §5).
inline constexpr uint16_t kMinTunnelMtu = 1280;

struct TunnelEntry {
  uint32_t id = 0;        // stable slot index < table capacity (per-tunnel counter arrays use it)
  TunnelMode mode = TunnelMode::V6V4;
  uint8_t prefix_len = 0;  // 0 = no delegated prefix
  uint16_t mtu = kMinTunnelMtu;
  Ipv4Addr client_v4;       // observed (public) outer address
  uint16_t client_port = 0;  // v6udpv4: observed UDP source port (host order); 0 for v6v4
  Ipv4Addr server_v4;       // tunnel server address (outer source we send from)
  uint16_t server_port = 0;  // v6udpv4: our UDP port (3653 usually)
  Ipv6Addr client_v6;       // the client's /128
  Ipv6Addr server_v6;       // our end of the tunnel (keepalive target)
  Ipv6Addr prefix;          // delegated prefix, masked to prefix_len (valid if prefix_len > 0)

  bool has_prefix() const { return prefix_len > 0; }
  friend bool operator==(const TunnelEntry&, const TunnelEntry&) = default;
};

static_assert(std::is_trivially_copyable_v<TunnelEntry>);
static_assert(sizeof(TunnelEntry) <= 80, "keep the entry within a couple of cache lines with its links");

// One line for logs and test failures:
// "#7 v6udpv4 192.0.2.1:4000 -> 198.51.100.1:3653 client 2001:db8::2 server 2001:db8::1
//  prefix 2001:db8:1::/48 mtu 1280".
inline std::string describe(const TunnelEntry& e) {
  std::string out = "#" + std::to_string(e.id) + " " + std::string(to_string(e.mode)) + " " +
                    e.client_v4.to_string();
  if (e.mode == TunnelMode::V6UDPV4) out += ":" + std::to_string(e.client_port);
  out += " -> " + e.server_v4.to_string();
  if (e.mode == TunnelMode::V6UDPV4) out += ":" + std::to_string(e.server_port);
  out += " client " + e.client_v6.to_string() + " server " + e.server_v6.to_string();
  if (e.has_prefix()) out += " prefix " + e.prefix.to_string() + "/" + std::to_string(e.prefix_len);
  out += " mtu " + std::to_string(e.mtu);
  return out;
}

}  // namespace tsp
