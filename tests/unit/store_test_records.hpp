// Tunnel records the store's and the history's tests both save: a registered user's router
// over UDP with a /48, and an anonymous v6v4 host whose fields sit at the extremes of their
// widths.
#pragma once

#include <cstdint>

#include "control/store/records.hpp"

namespace tsp::test {

inline Ipv4Addr v4(const char* t) { return *Ipv4Addr::parse(t); }
inline Ipv6Addr v6(const char* t) { return *Ipv6Addr::parse(t); }
inline Ipv6Prefix prefix(const char* t) { return *Ipv6Prefix::parse(t); }

// A registered v6udpv4 tunnel over TCP with a delegated prefix.
inline store::TunnelRecord udp_tunnel_with_prefix(uint32_t id) {
  store::TunnelRecord t;
  t.id = id;
  t.user = "alice";
  t.anonymous = false;
  t.mode = store::TunnelModeRec::V6UDPV4;
  t.client_v4 = v4("198.51.100.7");
  t.client_port = 61234;
  t.server_v4 = v4("192.0.2.1");
  t.server_port = 3653;
  t.client_v6 = v6("2001:db8:ffff::2");
  t.server_v6 = v6("2001:db8:ffff::1");
  t.endpoint_pool = "endpoints";
  t.prefix = prefix("2001:db8:f100::/48");
  t.prefix_pool = "p48";
  t.keepalive_interval = 30;
  t.mtu = 1280;
  t.dns_names = "alice.broker.example.net:ns1.example.net";
  t.transport = "tcp";
  t.created_at = 1700000100;
  t.last_seen = 1700000200;
  return t;
}

// An anonymous v6v4 tunnel with no prefix.
inline store::TunnelRecord anonymous_v6v4(uint32_t id) {
  store::TunnelRecord t;
  t.id = id;
  t.anonymous = true;
  t.mode = store::TunnelModeRec::V6V4;
  t.client_v4 = v4("203.0.113.9");
  t.client_port = 0;
  t.server_v4 = v4("192.0.2.1");
  t.server_port = 0;
  t.client_v6 = v6("2001:db8:ffff::a");
  t.server_v6 = v6("2001:db8:ffff::1");
  t.endpoint_pool = "endpoints";
  t.keepalive_interval = 4294967295u;  // extremes of every width survive the round trip
  t.mtu = 65535;
  t.transport = "udp";
  t.created_at = -1;
  t.last_seen = INT64_MAX;
  return t;
}

}  // namespace tsp::test
