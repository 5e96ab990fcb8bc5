#include "control/admin/user_commands.hpp"

#include <map>
#include <stdexcept>
#include <vector>

#include "control/admin/admin_protocol.hpp"
#include "control/admin/admin_views.hpp"
#include "control/auth/make_credentials.hpp"

namespace tsp::admin {

namespace {

using nlohmann::json;

std::string invalid_name_reply() {
  return encode_error(ErrorStatus::BadRequest,
                      "invalid user name (1-253 printable characters, no space, quote or backslash)");
}

std::string no_such_user(const std::string& name) {
  return encode_error(ErrorStatus::NotFound, "no user '" + name + "'");
}

// The live tunnels of registered users, by name (empty without a daemon).
std::map<std::string, store::TunnelRecord> live_by_user(const UserContext& ctx) {
  std::map<std::string, store::TunnelRecord> out;
  if (!ctx.tunnels) return out;
  for (auto& t : ctx.tunnels->tunnels())
    if (!t.anonymous) out.emplace(t.user, std::move(t));
  return out;
}

// See user_passwd in the header. Without a daemon, from what the last one saved.
void forget_lockout(UserContext& ctx, const std::string& name) {
  if (ctx.lockout) {
    ctx.lockout->forget_user(name);
    return;
  }
  ctx.store.transaction([&](store::Store& s) {
    auto saved = s.load_lockouts();
    const auto removed = std::erase_if(saved.users, [&](const store::UserLockoutRecord& u) { return u.name == name; });
    if (removed > 0) s.save_lockouts(saved);
  });
}

}  // namespace

bool valid_user_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes) return false;
  for (unsigned char c : name)
    if (c <= 0x20 || c == 0x7f || c == '"' || c == '\\') return false;
  return true;
}

std::string user_add(UserContext& ctx, const std::string& name, const std::string& password) {
  if (!valid_user_name(name)) return invalid_name_reply();
  if (password.empty()) return encode_error(ErrorStatus::BadRequest, "empty password");
  store::UserRecord rec{name, auth::make_credentials(name, ctx.realm, password), true, ctx.now};
  if (!ctx.store.add_user(rec)) return encode_error(ErrorStatus::Refused, "user '" + name + "' already exists");
  return encode_ok({{"user", name}, {"realm", ctx.realm}, {"action", "added"}});
}

std::string user_passwd(UserContext& ctx, const std::string& name, const std::string& password) {
  if (!valid_user_name(name)) return invalid_name_reply();
  if (password.empty()) return encode_error(ErrorStatus::BadRequest, "empty password");
  if (!ctx.store.update_credentials(name, auth::make_credentials(name, ctx.realm, password)))
    return no_such_user(name);
  forget_lockout(ctx, name);
  return encode_ok({{"user", name}, {"realm", ctx.realm}, {"action", "password changed"}});
}

std::string user_del(UserContext& ctx, const std::string& name) {
  bool removed = false;
  if (ctx.tunnels) {
    removed = ctx.tunnels->remove_user(name, ctx.now);
  } else {
    // No daemon: its stored tunnels must not come back at the next start, and their history
    // records end now, as the daemon would have ended them.
    std::vector<uint32_t> deleted;
    ctx.store.transaction([&](store::Store& s) {
      deleted.clear();
      for (const auto& t : s.load_tunnels()) {
        if (t.anonymous || t.user != name) continue;
        s.delete_tunnel(t.id);
        deleted.push_back(t.id);
      }
      removed = s.delete_user(name);
    });
    if (removed && ctx.history) {
      for (uint32_t id : deleted) ctx.history->ended(id, ctx.now, store::TunnelEnd::UserDeleted);
      ctx.history->flush();
    }
  }
  if (!removed) return no_such_user(name);
  forget_lockout(ctx, name);
  return encode_ok({{"user", name}, {"action", "deleted"}});
}

std::string user_show(UserContext& ctx, const std::string& name) {
  const auto user = ctx.store.find_user(name);
  if (!user) return no_such_user(name);
  json allocations = json::array();
  for (const auto& a : ctx.store.load_allocations())
    if (a.user == name) allocations.push_back({{"pool", a.pool}, {"block", a.block.to_string()}});
  json tunnel = nullptr;
  if (ctx.tunnels) {
    for (auto& t : ctx.tunnels->tunnels())
      if (!t.anonymous && t.user == name) tunnel = tunnel_json(TunnelView{std::move(t), std::nullopt}, ctx.now);
  }
  // What support needs when a customer cannot log in: is the name locked, and from where may
  // it still log in (null without a daemon: the running state is the daemon's).
  json lockout = nullptr;
  if (ctx.lockout) {
    const UserLockoutDetail d = ctx.lockout->user_detail(name, ctx.now);
    json trusted = json::array();
    for (const Ipv4Addr& a : d.trusted_sources) trusted.push_back(a.to_string());
    lockout = {{"state", d.locked_for > 0 ? "locked" : d.failures > 0 ? "counting" : "clear"},
               {"failures", d.failures},
               {"locked_for", d.locked_for},
               {"window_left", d.window_left},
               {"trusted_sources", std::move(trusted)}};
  }
  return encode_ok({{"name", user->name},
                    {"enabled", user->enabled},
                    {"realm", user->credentials.realm},
                    {"created_at", user->created_at},
                    {"allocations", std::move(allocations)},
                    {"tunnel", std::move(tunnel)},
                    {"lockout", std::move(lockout)},
                    {"daemon", ctx.tunnels != nullptr}});
}

std::string users_list(UserContext& ctx) {
  const auto live = live_by_user(ctx);
  json users = json::array();
  for (const auto& u : ctx.store.list_users()) {
    auto it = live.find(u.name);
    users.push_back({{"name", u.name},
                     {"enabled", u.enabled},
                     {"realm", u.credentials.realm},
                     {"created_at", u.created_at},
                     {"tunnel_id", it == live.end() ? json(nullptr) : json(it->second.id)},
                     {"ipv6_address", it == live.end() ? json(nullptr) : json(it->second.client_v6.to_string())}});
  }
  return encode_ok({{"users", std::move(users)}, {"daemon", ctx.tunnels != nullptr}});
}

}  // namespace tsp::admin
