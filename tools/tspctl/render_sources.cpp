// tspctl sources: one row per client IPv4 address holding unfinished sessions or anonymous
// tunnels, or whose TSP frames the dataplane dropped over their share (the busiest first), then
// the per-address limits they are held to.
#include <string>

#include "tools/tspctl/format.hpp"
#include "tools/tspctl/render.hpp"
#include "tools/tspctl/table.hpp"

namespace tsp::tspctl {

namespace {

using nlohmann::json;
using Align = Table::Align;

std::string limit_text(const json& limit) { return limit.get<uint64_t>() == 0 ? "no limit" : cell(limit); }

}  // namespace

std::string render_sources(const json& result) {
  std::string out;
  if (!result.at("sources").empty()) {
    Table t({{"ADDRESS"}, {"SESSIONS", Align::Right}, {"ANONYMOUS", Align::Right}, {"AT LIMIT"}, {"POLICED", Align::Right}});
    for (const auto& s : result.at("sources"))
      t.add_row({cell(s.at("address")), cell(s.at("sessions")), cell(s.at("anonymous")),
                 s.at("at_limit").get<bool>() ? "yes" : "-", cell(s.value("policed", json(0)))});
    out = t.render() + "\n";
  }
  const auto& limits = result.at("limits");
  out += cell(result.at("unfinished")) + " unfinished session(s) of " + cell(limits.at("sessions")) + " (max sessions) from " +
         cell(result.at("addresses")) + " address(es) holding sessions or anonymous tunnels; " +
         cell(result.at("at_limit")) + " at a limit\n";
  if (const uint64_t policed = result.value("policed", uint64_t{0})) {
    out += cell(result.at("policed")) + " address(es) with TSP frames dropped by the dataplane over their share "
           "(POLICED: frames, exception limit tsp-source)\n";
  }
  out += "per address: " + limit_text(limits.at("sessions_per_address")) + " unfinished session(s) (max sessions per-address), " +
         limit_text(limits.at("anonymous_per_address")) + " anonymous tunnel(s) (limit anonymous per-address)\n";
  return out;
}

}  // namespace tsp::tspctl
