// tspctl stats: one row per dataplane worker and a total row, the non-zero drops by reason,
// then the control plane's counters, then the reverse DNS zone file's writer when configured.
#include <map>

#include "tools/tspctl/format.hpp"
#include "tools/tspctl/render.hpp"
#include "tools/tspctl/table.hpp"

namespace tsp::tspctl {

namespace {

using nlohmann::json;
using Align = Table::Align;

// REASSEMBLED is "-" for daemons from before the workers reassembled fragments.
std::vector<std::string> counter_row(std::string name, const json& w) {
  return {std::move(name), cell(w.at("rx")), cell(w.at("tx")), cell(w.at("encap")), cell(w.at("decap")),
          cell(w.at("exception")), w.contains("reassembled") ? cell(w.at("reassembled")) : "-"};
}

}  // namespace

std::string render_stats(const json& result) {
  std::string out;
  const auto& dp = result.at("dataplane");
  if (dp.is_null()) {
    out += "dataplane: not running (control plane only)\n";
  } else {
    Table workers({{"WORKER"},
                   {"RX", Align::Right},
                   {"TX", Align::Right},
                   {"ENCAP", Align::Right},
                   {"DECAP", Align::Right},
                   {"EXCEPTION", Align::Right},
                   {"REASSEMBLED", Align::Right}});
    for (const auto& w : dp.at("workers")) workers.add_row(counter_row("lcore " + cell(w.at("lcore")), w));
    workers.add_row(counter_row("total", dp.at("total")));
    out += workers.render();

    // Drops: only the reasons some worker counted, one column per worker and the total.
    std::vector<std::string> reasons;
    for (const auto& [reason, count] : dp.at("total").at("drops").items())
      if (count.get<uint64_t>() != 0) reasons.push_back(reason);
    if (reasons.empty()) {
      out += "\ndrops: none\n";
    } else {
      std::vector<Table::Column> columns{{"DROP REASON"}};
      for (const auto& w : dp.at("workers")) columns.push_back({"LCORE " + cell(w.at("lcore")), Align::Right});
      columns.push_back({"TOTAL", Align::Right});
      Table drops(std::move(columns));
      for (const auto& reason : reasons) {
        std::vector<std::string> row{reason};
        for (const auto& w : dp.at("workers")) row.push_back(cell(w.at("drops").at(reason)));
        row.push_back(cell(dp.at("total").at("drops").at(reason)));
        drops.add_row(std::move(row));
      }
      out += "\n" + drops.render();
    }
    // What the workers may hand the kernel, per class (absent from daemons before it existed).
    if (const json limits = dp.value("exception_limits", json(nullptr)); !limits.is_null()) {
      std::string line;
      for (const auto& [cls, limit] : limits.items()) {
        line += (line.empty() ? "" : ", ") + cls + " " +
                (limit.is_null() ? std::string("no limit")
                                 : cell(limit.at("per_second")) + "/s burst " + cell(limit.at("burst")));
      }
      out += "\nexception limits: " + line + "\n";
    }
  }
  KeyValues control;
  for (const auto& [name, value] : result.at("control").items()) control.add(name, cell(value));
  out += "\ncontrol plane:\n" + control.render();
  // Reverse DNS delegation, when configured: the zone file's writer (control/dns/).
  const json delegation = result.value("dns_delegation", json(nullptr));
  if (!delegation.is_null()) {
    KeyValues d;
    d.add("file", cell(delegation.at("file")));
    d.add("zones", cell(delegation.at("zones")));
    d.add("writes", cell(delegation.at("writes")) + " (" + cell(delegation.at("write_failures")) + " failed)");
    d.add("reload commands", cell(delegation.at("reload_commands")) + " (" +
                                 cell(delegation.at("reload_command_failures")) + " failed)");
    d.add("names left out", cell(delegation.at("names_left_out")));
    std::string last_error = delegation.at("last_error").get<std::string>();
    for (char& c : last_error)
      if (c == '\n' || c == '\r') c = ' ';  // a command's output: one line here, whole in the log
    d.add("last error", last_error.empty() ? "-" : last_error);
    out += "\ndns delegation:\n" + d.render();
  }
  return out;
}

}  // namespace tsp::tspctl
