// What the statement handlers build while the file is read, before cross-checks: the final
// structs plus what is needed to point at the right line afterwards.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/broker_config.hpp"

namespace tsp::config {

enum class BlockKind { None, Tsp, TunnelServer, TunnelBroker, Dataplane };

// A name that refers to something defined elsewhere in the file, and where it was written.
struct Reference {
  std::string name;
  int line = 0;
};

struct TspDraft {
  TspConfig config;
  bool has_address = false;
  std::map<AuthMechanism, int> auth_lines;  // to report a mechanism listed twice
};

struct TunnelServerDraft {
  TunnelServerConfig config;
  bool has_address = false;
  std::optional<Reference> endpoint_pool;
  std::vector<Reference> prefix_pools;
  std::optional<Ipv6Addr> ipv6_address;
  int ipv6_address_line = 0;
  std::optional<Ipv6Addr> dns_server;
};

struct BrokerDraft {
  BrokerConfig config;
  std::optional<Reference> tsp;
  std::optional<Reference> tunnel_server;
};

struct DataplaneDraft {
  DataplaneSection config;
  int ipv4_port_line = 0, ipv6_port_line = 0;
  int ipv4_address_line = 0, ipv6_address_line = 0;
  int ipv4_gateway_line = 0, ipv6_gateway_line = 0;
  int ipv4_tap_line = 0, ipv6_tap_line = 0;
};

struct ParseState {
  std::string file;
  std::vector<PoolConfig> pools;
  std::vector<TspDraft> tsps;
  std::vector<TunnelServerDraft> servers;
  std::optional<BrokerDraft> broker;
  std::optional<DataplaneDraft> dataplane;
  StoreConfig store;
  AdminConfig admin;
  std::optional<MetricsConfig> metrics;
  bool metrics_per_tunnel = false;
  int metrics_per_tunnel_line = 0;
  LogTarget log_target;
  int log_target_line = 0;  // to refuse both 'log stderr' and 'log syslog'
  DnsDelegationConfig dns_delegation;  // used when dns_delegation_file_line is set
  int dns_delegation_file_line = 0;
  int dns_delegation_other_line = 0;  // the first 'dns delegation ttl|reload', to refuse it without a file
  uint32_t max_tunnels = 100000;
  uint32_t max_anonymous_per_address = 256;
  uint32_t history_keep_days = 365;
  std::string log_level = "info";

  BlockKind open_block = BlockKind::None;  // the block indented lines belong to
};

}  // namespace tsp::config
