// tspctl history: one row per tunnel life, newest first, times in UTC as abuse reports quote
// them; an empty answer says in words what had no match.
#include <string>

#include "tools/tspctl/format.hpp"
#include "tools/tspctl/render.hpp"
#include "tools/tspctl/table.hpp"

namespace tsp::tspctl {

namespace {

using nlohmann::json;
using Align = Table::Align;

// "no tunnel had 2001:db8::1 at 2026-11-20T14:03:00Z", and the like for an IPv4 source or a user.
std::string no_match(const json& query) {
  std::string line;
  if (!query.at("ipv6_address").is_null()) {
    line = "no tunnel had " + cell(query.at("ipv6_address"));
  } else if (!query.at("client_ipv4").is_null()) {
    line = "no tunnel came from " + cell(query.at("client_ipv4"));
  } else {
    line = "user '" + cell(query.at("user")) + "' had no tunnel";
  }
  if (!query.at("at").is_null()) line += " at " + iso_time(query.at("at").get<int64_t>());
  return line + "\n";
}

}  // namespace

std::string render_history(const json& result) {
  const auto& records = result.at("history");
  const auto& query = result.at("query");
  if (records.empty()) return no_match(query);
  Table t({{"STARTED"}, {"ENDED"}, {"REASON"}, {"TUNNEL", Align::Right}, {"USER"}, {"MODE"}, {"CLIENT"}, {"IPV6"},
           {"PREFIX"}});
  for (const auto& r : records) {
    const bool live = r.at("ended_at").is_null();
    t.add_row({iso_time(r.at("started_at").get<int64_t>()), live ? "live" : iso_time(r.at("ended_at").get<int64_t>()),
               cell(r.at("end_reason")), cell(r.at("tunnel_id")), user_of(r), cell(r.at("mode")), client_of(r),
               cell(r.at("ipv6_address")), cell(r.at("prefix"))});
  }
  std::string out = t.render() + std::to_string(t.rows()) + " tunnel(s), newest first";
  // A full answer may have left older tunnels out.
  if (t.rows() >= query.at("limit").get<size_t>()) out += "; the limit: older ones not shown (--limit)";
  return out + "\n";
}

}  // namespace tsp::tspctl
