// The broker's configuration: the Migration Broker's IOS-like language, parsed and checked
// into plain structs. Everything here is validated: a Config that parse_config returned
// has every reference resolved and every default filled in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_error.hpp"
#include "dataplane/dataplane.hpp"  // DPDK-free: the dataplane's settings types
#include "shared/net_types.hpp"

namespace tsp::config {

enum class AuthMechanism { Anonymous, Plain, DigestMd5, ScramSha256 };

// "ipv6 local pool NAME PREFIX LEN": `range` is handed out in blocks of `block_len` bits.
struct PoolConfig {
  std::string name;
  Ipv6Prefix range;
  unsigned block_len = 128;
  int line = 0;
};

// A "tsp NAME" block: where and how clients talk TSP to us.
struct TspConfig {
  std::string name;
  Ipv4Addr address;
  std::optional<uint16_t> udp_port, tcp_port;  // at least one is set
  // Offered in this order (CAPABILITY lists them so); default {ScramSha256, DigestMd5, Plain,
  // Anonymous}. Legacy clients ignore the AUTH= values they do not know (tsp-protocol.md §1.7).
  std::vector<AuthMechanism> auth;
  std::string realm = "tspbroker";  // DIGEST-MD5 realm
  unsigned keepalive_interval = 30;  // seconds offered to clients
  unsigned keepalive_missed = 3;     // missed intervals before an idle tunnel expires
  unsigned max_sessions = 10000;     // concurrent unfinished TSP sessions
  // Of those, from one IPv4 address (0: no limit of its own), so that one source cannot
  // take every session slot from the others.
  unsigned max_sessions_per_address = 256;
  unsigned session_timeout = 60;     // seconds an unfinished session may idle
  // Password guessing (control/auth_lockout.hpp): an address failing `lockout_failures` times
  // within `lockout_window` seconds is refused for `lockout_duration` seconds; 0 failures: off.
  // A user name failing `lockout_user_failures` times within `lockout_user_window` seconds,
  // from any addresses, likewise (except from addresses that proved its password before).
  unsigned lockout_failures = 5;
  unsigned lockout_window = 60;
  unsigned lockout_duration = 300;
  unsigned lockout_user_failures = 20;
  unsigned lockout_user_window = 3600;
  // Seconds between saves of that state to the store while running (0: at a clean stop only).
  unsigned lockout_save_interval = 60;
  int line = 0;
};

// A "tunnel server NAME" block: where tunnels end and which pools feed them.
struct TunnelServerConfig {
  std::string name;
  Ipv4Addr address;
  Ipv6Addr ipv6_address;  // our tunnel endpoint; default: block 1 of the endpoints pool
  std::string endpoint_pool;
  std::vector<std::string> prefix_pools;  // at most one per block length
  Ipv6Addr dns_server;  // given to clients; default: ipv6_address
  unsigned mtu = 1280;
  uint32_t lifetime = 604800;  // seconds, offered to clients
  // Seconds a released anonymous address or prefix waits before it is handed out again.
  uint32_t quarantine = 3600;
  int line = 0;
};

// The "tunnel broker NAME" block: which tsp and tunnel server this daemon runs.
struct BrokerConfig {
  std::string name;
  std::string tsp;
  std::string tunnel_server;
  std::vector<std::string> redirect_brokers;  // IPv4, IPv6 or DNS names, as written
  int line = 0;
};

// The "dataplane" block: DPDK ports and the exception taps that carry the broker's addresses
// (maps 1:1 onto tsp::dp::DataplaneConfig; the UDP port, tunnel MTU and table size come from
// the tsp, tunnel server and limit statements). Without the block the broker runs the control
// plane alone, on the host's own interfaces.
struct DataplaneSection {
  std::vector<std::string> eal_args;  // every 'eal' line's words, in order
  std::string ipv4_port;              // DPDK device facing the IPv4 clients
  std::string ipv6_port;              // DPDK device facing the IPv6 uplink
  unsigned workers = 1;
  Ipv4Addr ipv4_address;  // equals the tunnel server's ip address
  uint8_t ipv4_prefix_len = 24;
  std::optional<Ipv4Addr> ipv4_gateway;  // on-link, inside ipv4_address/ipv4_prefix_len
  Ipv6Addr ipv6_address;
  uint8_t ipv6_prefix_len = 64;
  std::optional<Ipv6Addr> ipv6_gateway;  // link-local, or inside ipv6_address/ipv6_prefix_len
  std::string ipv4_tap = "tsp-v4";
  std::string ipv6_tap = "tsp-v6";
  // "exception limit CLASS RATE [BURST]", by dp::ExceptionClass.
  dp::ExceptionLimit exception_limits[dp::kExceptionLimitCount] = {
      dp::kDefaultExceptionLimits[0], dp::kDefaultExceptionLimits[1], dp::kDefaultExceptionLimits[2],
      dp::kDefaultExceptionLimits[3]};
  int line = 0;
};

struct StoreConfig {
  std::string sqlite_path = "tspbroker.db";  // relative to the working directory
};

// "admin socket PATH", "admin group NAME": where tspctl talks to the daemon. The socket is
// owner-only (root) unless a group is named: then its members may use it too.
struct AdminConfig {
  std::string socket_path = "tspbrokerd.sock";  // relative to the working directory
  std::optional<std::string> group;
};

// "metrics listen ADDRESS PORT" (and "metrics per-tunnel"): the Prometheus endpoint.
struct MetricsConfig {
  Ipv4Addr address;
  uint16_t port = 0;
  bool per_tunnel = false;  // one series per tunnel: off by default (cardinality)
};

// "dns delegation file PATH" (and "ttl", "reload"): the zone file of NS records that delegates
// each routed prefix's ip6.arpa zone to the name servers its client named (control/dns/).
struct DnsDelegationConfig {
  std::string file;                         // relative to the working directory, as the store's
  uint32_t ttl = 3600;                      // of the NS records
  std::vector<std::string> reload_command;  // argv run after each write (no shell); empty: none
};

// "log stderr" (the default) or "log syslog [FACILITY]".
struct LogTarget {
  bool syslog = false;
  std::string facility = "daemon";  // daemon, user, local0..local7
};

struct Config {
  std::string file;
  std::vector<PoolConfig> pools;
  std::vector<TspConfig> tsps;
  std::vector<TunnelServerConfig> servers;
  BrokerConfig broker;
  StoreConfig store;
  AdminConfig admin;
  std::optional<MetricsConfig> metrics;  // none: no HTTP endpoint
  LogTarget log_target;
  std::optional<DataplaneSection> dataplane;
  std::optional<DnsDelegationConfig> dns_delegation;  // none: names are kept, nothing delegated
  uint32_t max_tunnels = 100000;  // capacity of the tunnel table
  // Live (and offered) anonymous tunnels from one IPv4 address (0: no limit): ANONYMOUS asks
  // for no credential, so without it one host with many UDP ports could take the whole table.
  uint32_t max_anonymous_per_address = 256;
  // Days a tunnel's history is kept after it ends ("history keep DAYS"; 0: forever): who had
  // which address when, for abuse reports; how long is the operator's legal question.
  uint32_t history_keep_days = 365;
  std::string log_level = "info";  // trace, debug, info, warning or error

  // The tsp and tunnel server the broker uses (throw std::out_of_range on a Config that
  // did not come from parse_config).
  const TspConfig& tsp() const;
  const TunnelServerConfig& tunnel_server() const;
  const PoolConfig* find_pool(std::string_view name) const;
};

// Throws ConfigError ("<file>:<line>: <reason>") on the first problem found.
Config parse_config(std::string_view text, const std::string& file_name);
// Throws ConfigError; an unreadable file is reported at line 0 with strerror's text.
Config load_config_file(const std::string& path);
// The text used when tspbrokerd runs without --config (loopback, documentation prefixes).
std::string_view embedded_default_config();
// "anonymous", "plain", "digest-md5", "scram-sha-256": the spelling of the config file.
std::string_view to_string(AuthMechanism mechanism);

}  // namespace tsp::config
