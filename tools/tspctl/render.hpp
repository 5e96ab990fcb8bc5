// The one place that turns a daemon reply's result into what tspctl prints: an aligned table
// or text by default, the result itself as JSON with --json. Throws nlohmann::json::exception
// if the result lacks a field the table needs.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "control/admin/admin_protocol.hpp"

namespace tsp::tspctl {

std::string render(admin::Command command, const nlohmann::json& result, bool as_json);

// Per command family (render_tunnels.cpp, render_stats.cpp, render_sources.cpp,
// render_history.cpp).
std::string render_tunnel_list(const nlohmann::json& result);
std::string render_tunnel_detail(const nlohmann::json& t);
std::string render_stats(const nlohmann::json& result);
std::string render_sources(const nlohmann::json& result);
std::string render_history(const nlohmann::json& result);

// A tunnel's (or a history record's) cells, shared by the tables (render_tunnels.cpp): its
// user or "(anonymous)"; its client, with the port for v6udpv4 (keyed by address and port).
std::string user_of(const nlohmann::json& t);
std::string client_of(const nlohmann::json& t);

}  // namespace tsp::tspctl
