// tspctl history: the abuse desk's question, "who had this address at that time". Answered
// from the tunnel history's file alone (control/store/tunnel_history.hpp), so the daemon and
// tspctl's own fallback (no daemon running) give the same reply line.
#pragma once

#include <string>

#include "control/admin/admin_protocol.hpp"
#include "control/store/tunnel_history.hpp"

namespace tsp::admin {

// `request.target` is an IPv6 address (a tunnel's /128 or one inside its prefix) or a client
// IPv4 address; otherwise `request.name` is a user. {"history":[history_record_json...]
// newest first, "query":{"ipv6_address","client_ipv4","user","at","limit"} (null: not asked)}.
// A target that is no address is a bad request; no match is an empty list, not an error.
std::string history_list(store::TunnelHistory& history, const AdminRequest& request);

}  // namespace tsp::admin
