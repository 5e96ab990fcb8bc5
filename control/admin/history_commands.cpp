#include "control/admin/history_commands.hpp"

#include "control/admin/admin_views.hpp"

namespace tsp::admin {

using nlohmann::json;

std::string history_list(store::TunnelHistory& history, const AdminRequest& request) {
  store::HistoryQuery query;
  query.at = request.at;
  query.limit = request.limit;
  if (!request.target.empty()) {
    query.ipv6 = Ipv6Addr::parse(request.target);
    if (!query.ipv6) query.ipv4 = Ipv4Addr::parse(request.target);
    if (!query.ipv6 && !query.ipv4)
      return encode_error(ErrorStatus::BadRequest, "'" + request.target + "' is not an IPv6 or IPv4 address");
  } else if (!request.name.empty()) {
    query.user = request.name;
  } else {
    return encode_error(ErrorStatus::BadRequest, "history needs an address or a user");
  }

  json records = json::array();
  for (const auto& r : history.find(query)) records.push_back(history_record_json(r));
  // The question as understood (addresses written canonically), so that an empty answer can
  // say what had no match.
  return encode_ok({{"history", std::move(records)},
                    {"query",
                     {{"ipv6_address", query.ipv6 ? json(query.ipv6->to_string()) : json(nullptr)},
                      {"client_ipv4", query.ipv4 ? json(query.ipv4->to_string()) : json(nullptr)},
                      {"user", query.user ? json(*query.user) : json(nullptr)},
                      {"at", query.at ? json(*query.at) : json(nullptr)},
                      {"limit", query.limit}}}});
}

}  // namespace tsp::admin
