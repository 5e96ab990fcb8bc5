// tspctl tunnels / tunnel: the listing as one aligned table, one tunnel as key: value lines.
#include "tools/tspctl/format.hpp"
#include "tools/tspctl/render.hpp"
#include "tools/tspctl/table.hpp"

namespace tsp::tspctl {

namespace {

using nlohmann::json;
using Align = Table::Align;

std::string ipv6_of(const json& t) {
  return t.at("prefix").is_null() ? cell(t.at("ipv6_address")) : cell(t.at("prefix"));
}

}  // namespace

std::string user_of(const json& t) { return t.at("user").is_null() ? "(anonymous)" : cell(t.at("user")); }

std::string client_of(const json& t) {
  std::string c = cell(t.at("client_ipv4"));
  if (t.at("mode") == "v6udpv4") c += ":" + cell(t.at("client_port"));
  return c;
}

std::string render_tunnel_list(const json& result) {
  Table table({{"ID", Align::Right},
               {"USER"},
               {"MODE"},
               {"CLIENT"},
               {"IPV6"},
               {"AGE", Align::Right},
               {"LAST SEEN", Align::Right},
               {"PKTS IN", Align::Right},
               {"BYTES IN", Align::Right},
               {"PKTS OUT", Align::Right},
               {"BYTES OUT", Align::Right}});
  for (const auto& t : result.at("tunnels")) {
    const auto& traffic = t.at("traffic");
    const bool counted = !traffic.is_null();
    table.add_row({cell(t.at("id")), user_of(t), cell(t.at("mode")), client_of(t), ipv6_of(t),
                   duration(t.at("age_seconds").get<int64_t>()), duration(t.at("idle_seconds").get<int64_t>()) + " ago",
                   counted ? cell(traffic.at("packets_in")) : "-",
                   counted ? bytes(traffic.at("bytes_in").get<uint64_t>()) : "-",
                   counted ? cell(traffic.at("packets_out")) : "-",
                   counted ? bytes(traffic.at("bytes_out").get<uint64_t>()) : "-"});
  }
  std::string out = table.render();
  out += std::to_string(table.rows()) + " tunnel(s)";
  if (!result.at("dataplane").get<bool>()) out += "; no dataplane runs, so no traffic counters";
  return out + "\n";
}

std::string render_tunnel_detail(const json& t) {
  KeyValues kv;
  kv.add("tunnel", "#" + cell(t.at("id")));
  kv.add("user", user_of(t));
  kv.add("mode", cell(t.at("mode")) + " (TSP over " + cell(t.at("transport")) + ")");
  kv.add("client", client_of(t));
  kv.add("server", cell(t.at("server_ipv4")) +
                       (t.at("mode") == "v6udpv4" ? ":" + cell(t.at("server_port")) : std::string()));
  kv.add("ipv6 address", cell(t.at("ipv6_address")) + " (pool " + cell(t.at("endpoint_pool")) + ")");
  kv.add("server ipv6", cell(t.at("server_ipv6")));
  kv.add("prefix", t.at("prefix").is_null() ? std::string("none")
                                            : cell(t.at("prefix")) + " (pool " + cell(t.at("prefix_pool")) + ")");
  kv.add("created", timestamp(t.at("created_at").get<int64_t>()) + " UTC (" +
                        duration(t.at("age_seconds").get<int64_t>()) + " ago)");
  kv.add("last seen", timestamp(t.at("last_seen").get<int64_t>()) + " UTC (" +
                          duration(t.at("idle_seconds").get<int64_t>()) + " ago)");
  kv.add("keepalive", cell(t.at("keepalive_interval")) + "s");
  kv.add("mtu", cell(t.at("mtu")));
  if (!cell(t.at("dns_names")).empty()) kv.add("dns names", cell(t.at("dns_names")));
  const auto& traffic = t.at("traffic");
  if (traffic.is_null()) {
    kv.add("traffic", "- (no dataplane)");
  } else {
    kv.add("in (from client)", cell(traffic.at("packets_in")) + " packets, " +
                                   bytes(traffic.at("bytes_in").get<uint64_t>()));
    kv.add("out (to client)", cell(traffic.at("packets_out")) + " packets, " +
                                  bytes(traffic.at("bytes_out").get<uint64_t>()));
  }
  if (t.contains("drops") && t.at("drops").is_object()) {
    for (const auto& [reason, count] : t.at("drops").items())
      if (count.get<uint64_t>() != 0) kv.add("drop " + reason, cell(count));
  } else {
    kv.add("drops", t.value("drops_note", std::string("-")));
  }
  return kv.render();
}

}  // namespace tsp::tspctl
