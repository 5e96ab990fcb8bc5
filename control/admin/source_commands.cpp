#include "control/admin/source_commands.hpp"

#include <algorithm>
#include <map>

#include "control/admin/admin_protocol.hpp"

namespace tsp::admin {

using nlohmann::json;

std::string sources_list(const SessionLimiter::Snapshot& sessions,
                         const std::vector<std::pair<Ipv4Addr, uint32_t>>& anonymous, uint32_t anonymous_limit,
                         const std::vector<dp::PolicedSource>& policed) {
  struct Held {
    uint64_t sessions = 0, anonymous = 0, policed = 0;
  };
  std::map<uint32_t, Held> by_address;
  uint64_t unfinished = 0;
  for (const auto& [addr, n] : sessions.by_address) {
    by_address[addr.value].sessions = n;
    unfinished += n;
  }
  for (const auto& [addr, n] : anonymous) by_address[addr.value].anonymous = n;
  for (const dp::PolicedSource& p : policed) by_address[p.address.value].policed += p.frames;

  std::vector<std::pair<uint32_t, Held>> rows(by_address.begin(), by_address.end());
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    const uint64_t held_a = a.second.sessions + a.second.anonymous, held_b = b.second.sessions + b.second.anonymous;
    return held_a != held_b ? held_a > held_b : a.second.policed > b.second.policed;
  });
  json sources = json::array();
  uint64_t at_limit = 0, holding = 0, policed_addresses = 0;
  for (const auto& [addr, held] : rows) {
    const bool full = (sessions.per_address != 0 && held.sessions >= sessions.per_address) ||
                      (anonymous_limit != 0 && held.anonymous >= anonymous_limit);
    at_limit += full;
    holding += held.sessions + held.anonymous != 0;
    policed_addresses += held.policed != 0;
    sources.push_back({{"address", Ipv4Addr{addr}.to_string()},
                       {"sessions", held.sessions},
                       {"anonymous", held.anonymous},
                       {"at_limit", full},
                       {"policed", held.policed}});
  }
  return encode_ok({{"limits",
                     {{"sessions", sessions.limit},
                      {"sessions_per_address", sessions.per_address},
                      {"anonymous_per_address", anonymous_limit}}},
                    {"unfinished", unfinished},
                    {"addresses", holding},
                    {"at_limit", at_limit},
                    {"policed", policed_addresses},
                    {"sources", std::move(sources)}});
}

}  // namespace tsp::admin
