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
  json users = json::array();
  size_t locked_users = 0;
  for (const UserLockoutView& v : lockout.user_view(now)) {
    const bool is_locked = v.locked_for > 0;
    locked_users += is_locked;
    users.push_back({{"user", v.user},
                     {"state", is_locked ? "locked" : "counting"},
                     {"failures", v.failures},
                     {"locked_for", v.locked_for},
                     {"window_left", v.window_left},
                     {"trusted_sources", v.trusted_sources}});
  }
  const size_t counting = sources.size() - locked;
  const size_t counting_users = users.size() - locked_users;
  return encode_ok({{"policy",
                     {{"failures", policy.failures},
                      {"window", policy.window},
                      {"duration", policy.duration},
                      {"user_failures", policy.user_failures},
                      {"user_window", policy.user_window}}},
                    {"locked", locked},
                    {"counting", counting},
                    {"sources", std::move(sources)},
                    {"locked_users", locked_users},
                    {"counting_users", counting_users},
                    {"users", std::move(users)}});
}

std::string lockout_unlock(AuthLockout& lockout, const std::string& target, int64_t now) {
  if (target == "all") {
    const LockoutCounts lifted = lockout.unlock_all(now);
    spdlog::info("admin: every lockout lifted ({} address(es) and {} user(s) were locked)", lifted.addresses,
                 lifted.users);
    return encode_ok(
        {{"action", "unlocked"}, {"address", "all"}, {"released", lifted.addresses}, {"released_users", lifted.users}});
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

std::string lockout_unlock_user(AuthLockout& lockout, const std::string& user, int64_t now) {
  const AuthLockout::Lifted lifted = lockout.unlock_user(user, now);
  if (lifted == AuthLockout::Lifted::Nothing) {
    return encode_error(ErrorStatus::NotFound, "user '" + user + "' is neither locked out nor counting failed logins");
  }
  const bool was_locked = lifted == AuthLockout::Lifted::Lock;
  spdlog::info("admin: lockout of user '{}' lifted ({})", user, was_locked ? "it was locked" : "failures forgotten");
  return encode_ok({{"action", "unlocked"}, {"user", user}, {"released", was_locked ? 1 : 0}});
}

}  // namespace tsp::admin
