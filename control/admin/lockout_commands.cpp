#include "control/admin/lockout_commands.hpp"

#include <spdlog/spdlog.h>

#include "control/admin/admin_protocol.hpp"

namespace tsp::admin {

using nlohmann::json;

std::string lockouts_list(const AuthLockout& lockout, int64_t now) {
  const LockoutPolicy policy = lockout.policy();
  json sources = json::array();
  size_t locked = 0;
  for (const LockoutView& v : lockout.view(now)) {
    const bool is_locked = v.locked_for > 0;
    locked += is_locked;
    sources.push_back({{"address", v.source.to_string()},
                       {"state", is_locked ? "locked" : "counting"},
                       {"failures", v.failures},
                       {"locked_for", v.locked_for},
                       {"window_left", v.window_left}});
  }
  const size_t counting = sources.size() - locked;
  return encode_ok({{"policy", {{"failures", policy.failures}, {"window", policy.window}, {"duration", policy.duration}}},
                    {"locked", locked},
                    {"counting", counting},
                    {"sources", std::move(sources)}});
}

std::string lockout_unlock(AuthLockout& lockout, const std::string& target, int64_t now) {
  if (target == "all") {
    const size_t released = lockout.unlock_all(now);
    spdlog::info("admin: every lockout lifted ({} address(es) were locked)", released);
    return encode_ok({{"action", "unlocked"}, {"address", "all"}, {"released", released}});
  }
  const auto address = Ipv4Addr::parse(target);
  if (!address) return encode_error(ErrorStatus::BadRequest, "'" + target + "' is not an IPv4 address or 'all'");
  const bool was_locked = lockout.locked_for(*address, now) > 0;
  if (!lockout.unlock(*address)) {
    return encode_error(ErrorStatus::NotFound, "no failed logins remembered from " + address->to_string());
  }
  spdlog::info("admin: lockout of {} lifted ({})", address->to_string(), was_locked ? "it was locked" : "failures forgotten");
  return encode_ok({{"action", "unlocked"}, {"address", address->to_string()}, {"released", was_locked ? 1 : 0}});
}

}  // namespace tsp::admin
