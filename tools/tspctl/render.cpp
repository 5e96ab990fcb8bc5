#include "tools/tspctl/render.hpp"

#include "tools/tspctl/format.hpp"
#include "tools/tspctl/table.hpp"

namespace tsp::tspctl {

namespace {

using admin::Command;
using nlohmann::json;
using Align = Table::Align;

std::string render_users(const json& result) {
  Table t({{"USER"}, {"ENABLED"}, {"REALM"}, {"CREATED"}, {"TUNNEL", Align::Right}, {"IPV6"}});
  for (const auto& u : result.at("users"))
    t.add_row({u.at("name").get<std::string>(), u.at("enabled").get<bool>() ? "yes" : "no", cell(u.at("realm")),
               timestamp(u.at("created_at").get<int64_t>()), cell(u.at("tunnel_id")), cell(u.at("ipv6_address"))});
  return t.render();
}

std::string render_user(const json& u) {
  KeyValues kv;
  kv.add("user", u.at("name").get<std::string>());
  kv.add("enabled", u.at("enabled").get<bool>() ? "yes" : "no");
  kv.add("realm", cell(u.at("realm")));
  kv.add("created", timestamp(u.at("created_at").get<int64_t>()));
  const auto& allocations = u.at("allocations");
  if (allocations.empty()) kv.add("allocations", "none");
  for (const auto& a : allocations) kv.add("allocation", cell(a.at("block")) + " (pool " + cell(a.at("pool")) + ")");
  const auto& tunnel = u.at("tunnel");
  if (!tunnel.is_null())
    kv.add("live tunnel", "#" + cell(tunnel.at("id")) + " " + cell(tunnel.at("mode")) + " from " +
                              cell(tunnel.at("client_ipv4")) + ", " + cell(tunnel.at("ipv6_address")) +
                              (tunnel.at("prefix").is_null() ? "" : " + " + cell(tunnel.at("prefix"))));
  else
    kv.add("live tunnel", u.value("daemon", false) ? "none" : "unknown (no daemon running)");
  const json lockout = u.value("lockout", json());
  if (!lockout.is_null()) {
    const std::string state = cell(lockout.at("state"));
    if (state == "locked")
      kv.add("lockout", "locked for " + duration(lockout.at("locked_for").get<int64_t>()) +
                            " (tspctl unlock-user " + u.at("name").get<std::string>() + ")");
    else if (state == "counting")
      kv.add("lockout", cell(lockout.at("failures")) + " failed login(s), forgotten in " +
                            duration(lockout.at("window_left").get<int64_t>()));
    else
      kv.add("lockout", "none");
    std::string trusted;
    for (const auto& a : lockout.at("trusted_sources")) trusted += (trusted.empty() ? "" : ", ") + cell(a);
    kv.add("trusted addresses", trusted.empty() ? "none" : trusted);
  }
  return kv.render();
}

std::string render_pools(const json& result) {
  Table t({{"POOL"},
           {"RANGE"},
           {"BLOCK", Align::Right},
           {"SIZE", Align::Right},
           {"USED", Align::Right},
           {"FREE", Align::Right},
           {"QUARANTINED", Align::Right}});
  for (const auto& p : result.at("pools"))
    t.add_row({cell(p.at("name")), cell(p.at("range")), "/" + cell(p.at("block_length")), cell(p.at("size")),
               cell(p.at("used")), cell(p.at("free")), cell(p.at("quarantined"))});
  return t.render();
}

// Addresses locked or counting failed logins, then user names, then the rules they are judged by.
std::string render_lockouts(const json& result) {
  std::string out;
  auto state_cells = [](const json& row) {
    const int64_t locked_for = row.at("locked_for").get<int64_t>();
    const int64_t window_left = row.at("window_left").get<int64_t>();
    return std::vector<std::string>{cell(row.at("state")), cell(row.at("failures")),
                                    locked_for > 0 ? duration(locked_for) : "-",
                                    window_left > 0 ? duration(window_left) : "-"};
  };
  if (!result.at("sources").empty()) {
    Table t({{"ADDRESS"}, {"STATE"}, {"FAILURES", Align::Right}, {"LOCKED FOR", Align::Right},
             {"WINDOW LEFT", Align::Right}});
    for (const auto& s : result.at("sources")) {
      auto row = state_cells(s);
      row.insert(row.begin(), cell(s.at("address")));
      t.add_row(row);
    }
    out = t.render();
  }
  const json users = result.value("users", json::array());
  if (!users.empty()) {
    if (!out.empty()) out += "\n";
    Table t({{"USER"}, {"STATE"}, {"FAILURES", Align::Right}, {"LOCKED FOR", Align::Right},
             {"WINDOW LEFT", Align::Right}, {"TRUSTED", Align::Right}});
    for (const auto& u : users) {
      auto row = state_cells(u);
      row.insert(row.begin(), cell(u.at("user")));
      row.push_back(cell(u.at("trusted_sources")));
      t.add_row(row);
    }
    out += t.render();
  }
  const auto& p = result.at("policy");
  const auto failures = p.at("failures").get<unsigned>();
  out += cell(result.at("locked")) + " address(es) locked, " + cell(result.at("counting")) + " counting; ";
  out += failures == 0 ? std::string("address lockout off (lockout failures 0)\n")
                       : cell(p.at("failures")) + " failed logins within " + duration(p.at("window").get<int64_t>()) +
                             " lock an address for " + duration(p.at("duration").get<int64_t>()) + "\n";
  if (p.contains("user_failures")) {
    const auto user_failures = p.at("user_failures").get<unsigned>();
    out += cell(result.at("locked_users")) + " user(s) locked, " + cell(result.at("counting_users")) + " counting; ";
    out += user_failures == 0 ? std::string("user lockout off (lockout user-failures 0)\n")
                              : cell(p.at("user_failures")) + " failed logins within " +
                                    duration(p.at("user_window").get<int64_t>()) + " lock a user name for " +
                                    duration(p.at("duration").get<int64_t>()) +
                                    " (not for the addresses that proved its password)\n";
  }
  return out;
}

// The one-line answer of a command that changes something.
std::string render_action(const json& result) {
  const std::string action = result.value("action", "done");
  if (action == "unlocked") {
    const std::string how = result.at("released").get<int>() > 0 ? " (it was locked)\n" : " (its failures forgotten)\n";
    if (result.contains("user")) return "lockout of user '" + cell(result.at("user")) + "' lifted" + how;
    const std::string address = cell(result.at("address"));
    if (address == "all")
      return "every lockout lifted (" + cell(result.at("released")) + " address(es) and " +
             cell(result.at("released_users")) + " user(s) were locked)\n";
    return "lockout of " + address + " lifted" + how;
  }
  if (result.contains("user") && !result.at("user").is_null() && !result.contains("id")) {
    std::string line = "user '" + cell(result.at("user")) + "' " + action;
    if (result.contains("realm")) line += " (realm " + cell(result.at("realm")) + ")";
    return line + "\n";
  }
  if (result.contains("id"))
    return "tunnel #" + cell(result.at("id")) + " (" +
           (result.at("user").is_null() ? std::string("anonymous") : cell(result.at("user"))) + ", " +
           cell(result.at("ipv6_address")) + ") " + action + "\n";
  return action == "reloaded" ? "OK: configuration reloaded\n" : action + "\n";
}

}  // namespace

std::string render(Command command, const json& result, bool as_json) {
  if (as_json) return result.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
  switch (command) {
    case Command::Tunnels:
      return render_tunnel_list(result);
    case Command::Tunnel:
      return render_tunnel_detail(result);
    case Command::Users:
      return render_users(result);
    case Command::UserShow:
      return render_user(result);
    case Command::Pools:
      return render_pools(result);
    case Command::Stats:
      return render_stats(result);
    case Command::Lockouts:
      return render_lockouts(result);
    case Command::Sources:
      return render_sources(result);
    case Command::History:
      return render_history(result);
    case Command::UserAdd:
    case Command::UserPasswd:
    case Command::UserDel:
    case Command::Kick:
    case Command::Reload:
    case Command::Unlock:
    case Command::UnlockUser:
      return render_action(result);
  }
  return result.dump() + "\n";
}

}  // namespace tsp::tspctl
