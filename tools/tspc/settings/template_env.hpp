// The TSP_* environment of the template script (protocol notes §8.2): the same variable set
// for creation and teardown, so a script can undo exactly what it did.
//   TSP_OPERATION               TSP_TUNNEL_CREATION | TSP_TUNNEL_TEARDOWN
//   TSP_VERBOSE                 3 (as gogoc: the script's output only reaches the log at level 3)
//   TSP_HOME_DIR                tsp_dir
//   TSP_TUNNEL_MODE             offered type: v6v4 | v6udpv4 | v4v6
//   TSP_HOST_TYPE               host | router
//   TSP_TUNNEL_INTERFACE        the interface the engine chose (else if_tunnel_* of the mode)
//   TSP_HOME_INTERFACE          if_prefix
//   TSP_CLIENT_ADDRESS_IPV4/6, TSP_SERVER_ADDRESS_IPV4/6
//   TSP_CLIENT_DNS_ADDRESS_IPV6 always set (empty when none was offered; gogoc needs it set)
//   TSP_CLIENT_DNS_NAME         only when the offer had a dn address
//   TSP_TUNNEL_PREFIXLEN        128 for v6v4/v6udpv4, 32 for v4v6
//   TSP_PREFIX, TSP_PREFIXLEN   only with a delegated prefix; TSP_PREFIX is the expanded
//                               text cut after ceil(len/16) groups ("2001:0db8:0001:0002"
//                               for a /64), so scripts write $TSP_PREFIX::/$TSP_PREFIXLEN
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "shared/net_types.hpp"
#include "tools/tspc/settings/tspc_config.hpp"

namespace tsp::tspc {

enum class TemplateOperation { Creation, Teardown };

struct TunnelInfo {               // what the engine knows after the offer
  std::string mode;               // offered type: "v6v4" | "v6udpv4" | "v4v6"
  HostType host_type = HostType::Host;
  std::string tunnel_interface;   // the interface the engine created or chose
  Ipv4Addr client_v4, server_v4;
  Ipv6Addr client_v6, server_v6;
  std::optional<Ipv6Addr> dns_v6;
  std::string dns_name;
  std::string prefix_text;        // as offered (full or already cut); empty = none
  unsigned prefix_len = 0;
};

using TemplateEnvironment = std::vector<std::pair<std::string, std::string>>;

TemplateEnvironment template_environment(const TspcConfig& cfg, const TunnelInfo& info,
                                         TemplateOperation op);

// The TSP_PREFIX text: a parsable address is expanded, lower-cased and cut after
// ceil(len/16) groups; text that is already cut is lower-cased and kept.
std::string template_prefix_text(std::string_view offered, unsigned len);

}  // namespace tsp::tspc
