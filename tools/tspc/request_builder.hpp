// The create request tspc sends (tsp-protocol.md §3.2), from the configuration: the declared
// IPv4 is client_v4, or with `auto` the local address of the TSP socket (what lets the broker
// see a NAT, §7).
#pragma once

#include <string>

#include "control/xml/tunnel_xml.hpp"
#include "shared/net_types.hpp"
#include "tools/tspc/settings/tspc_config.hpp"

namespace tsp::tspc {

xml::RequestSpec make_request_spec(const TspcConfig& cfg, Ipv4Addr socket_local_address);

// "Content-length: N\r\n<tunnel action="create" ...>...</tunnel>\r\n".
std::string create_request_message(const TspcConfig& cfg, Ipv4Addr socket_local_address);

// The accept gogoc sends after an offer (versions 2.0.x).
inline constexpr std::string_view kAcceptMessage = "Content-length: 35\r\n<tunnel action=\"accept\"></tunnel>\r\n";

}  // namespace tsp::tspc
