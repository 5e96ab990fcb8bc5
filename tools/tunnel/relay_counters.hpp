// What a relay did, by direction and by reason for every packet it did not pass on. The test
// scripts compare these with the broker's dataplane counters.
#pragma once

#include <cstdint>
#include <string>

namespace tsp::tunnel {

// Every counter, declared once: the struct, the printer and the docs read this list.
#define TSP_RELAY_COUNTERS(X)                                                                      \
  X(to_tunnel_packets, "IPv6 packets read from the TUN device and sent to the server")             \
  X(to_tunnel_bytes, "bytes of those packets")                                                     \
  X(from_tunnel_packets, "IPv6 packets received from the server and written to the TUN device")    \
  X(from_tunnel_bytes, "bytes of those packets")                                                   \
  X(keepalives_sent, "ICMPv6 echo requests sent to the keepalive address")                         \
  X(keepalive_replies, "echo replies to those requests")                                           \
  X(dropped_not_from_server, "datagrams from another address or port")                             \
  X(dropped_not_ipv6, "tunnel payloads that are not a complete IPv6 packet")                       \
  X(dropped_malformed, "outer headers that could not be read")                                     \
  X(dropped_local_scope, "TUN packets with a link-local, multicast or unspecified address")        \
  X(dropped_tun_not_ipv6, "TUN packets that are not a complete IPv6 packet")                       \
  X(control_messages, "TSP control messages on the v6udpv4 socket (not data)")                     \
  X(send_errors, "packets lost to a transient socket error (ICMP error, full buffer)")             \
  X(receive_errors, "transient errors reported by the tunnel socket")                              \
  X(socket_drops, "datagrams the kernel dropped at the tunnel socket (receive buffer full)")       \
  X(tun_write_errors, "packets the TUN device refused")

struct RelayCounters {
#define TSP_RELAY_FIELD(name, text) uint64_t name = 0;
  TSP_RELAY_COUNTERS(TSP_RELAY_FIELD)
#undef TSP_RELAY_FIELD
};

// "relay.to_tunnel_packets=12\nrelay.to_tunnel_bytes=1040\n..." (one key=value per line).
std::string format_relay_counters(const RelayCounters& c);

}  // namespace tsp::tunnel
