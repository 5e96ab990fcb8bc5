#include "control/admin/admin_commands.hpp"

#include <spdlog/spdlog.h>

#include <utility>

#include "control/admin/admin_views.hpp"
#include "control/admin/history_commands.hpp"
#include "control/admin/lockout_commands.hpp"
#include "control/admin/source_commands.hpp"
#include "control/admin/user_commands.hpp"

namespace tsp::admin {

namespace {

std::string no_tunnel(const std::string& target) {
  return encode_error(ErrorStatus::NotFound, "no live tunnel matches '" + target + "'");
}

}  // namespace

AdminCommands::AdminCommands(AdminContext ctx) : ctx_(std::move(ctx)) {}

CommandResult AdminCommands::run(const AdminRequest& request) {
  try {
    switch (request.command) {
      case Command::Tunnels:
        return tunnels();
      case Command::Tunnel:
        return {tunnel(request.target), {}};
      case Command::Kick:
        return {kick(request.target), {}};
      case Command::Pools:
        return {pools(), {}};
      case Command::Stats:
        return {stats(), {}};
      case Command::Reload:
        return {reload(), {}};
      case Command::Sources:
        return {sources(), {}};
      case Command::History:
        return {history(request), {}};
      case Command::Lockouts:
      case Command::Unlock:
      case Command::UnlockUser:
        return {lockouts(request), {}};
      case Command::Users:
      case Command::UserAdd:
      case Command::UserPasswd:
      case Command::UserDel:
      case Command::UserShow:
        return {users(request), {}};
    }
  } catch (const store::StoreError& e) {
    spdlog::error("admin {}: store: {}", command_name(request.command), e.what());
    return {encode_error(ErrorStatus::Failed, std::string("store: ") + e.what()), {}};
  } catch (const std::exception& e) {
    spdlog::error("admin {}: {}", command_name(request.command), e.what());
    return {encode_error(ErrorStatus::Failed, e.what()), {}};
  }
  return {encode_error(ErrorStatus::BadRequest, "unknown command"), {}};
}

CommandResult AdminCommands::tunnels() {
  // The snapshot on this thread (a copy under the service's mutex), the text elsewhere.
  auto views = std::make_shared<std::vector<TunnelView>>();
  auto records = ctx_.tunnels->tunnels();
  views->reserve(records.size());
  for (auto& r : records) {
    std::optional<dp::TunnelStats> traffic;
    if (ctx_.dataplane) traffic = ctx_.dataplane->tunnel_stats(r.id);
    views->push_back({std::move(r), traffic});
  }
  const int64_t now = ctx_.now();
  const bool dataplane = ctx_.dataplane != nullptr;
  return {{}, [views, now, dataplane] { return encode_ok_raw(tunnel_list_json(*views, now, dataplane)); }};
}

std::string AdminCommands::tunnel(const std::string& target) {
  auto found = find_tunnel(ctx_.tunnels->tunnels(), target);
  if (!found) return no_tunnel(target);
  const auto& r = *found;
  TunnelView view{r, std::nullopt};
  if (ctx_.dataplane) view.traffic = ctx_.dataplane->tunnel_stats(r.id);
  auto doc = tunnel_json(view, ctx_.now());
  doc["server_ipv4"] = r.server_v4.to_string();
  doc["server_port"] = r.server_port;
  doc["server_ipv6"] = r.server_v6.to_string();
  doc["endpoint_pool"] = r.endpoint_pool;
  doc["prefix_pool"] = r.prefix ? nlohmann::json(r.prefix_pool) : nlohmann::json(nullptr);
  doc["keepalive_interval"] = r.keepalive_interval;
  doc["mtu"] = r.mtu;
  doc["dns_names"] = r.dns_names;
  // The dataplane counts drops per worker and reason, not per tunnel.
  doc["drops"] = nullptr;
  doc["drops_note"] = "drops are counted per worker and reason, not per tunnel: see tspctl stats";
  return encode_ok(doc);
}

std::string AdminCommands::kick(const std::string& target) {
  const auto found = find_tunnel(ctx_.tunnels->tunnels(), target);
  if (!found || !ctx_.tunnels->kick(found->id, ctx_.now())) return no_tunnel(target);
  spdlog::info("admin: tunnel {} ({} {}) kicked", found->id, found->anonymous ? "anonymous" : found->user,
               found->client_v6.to_string());
  return encode_ok({{"id", found->id},
                    {"user", found->anonymous ? nlohmann::json(nullptr) : nlohmann::json(found->user)},
                    {"ipv6_address", found->client_v6.to_string()},
                    {"action", "kicked"}});
}

std::string AdminCommands::pools() { return encode_ok(pools_json(ctx_.tunnels->pool_usage())); }

std::string AdminCommands::stats() {
  std::optional<dp::DataplaneStats> dataplane;
  if (ctx_.dataplane) dataplane = ctx_.dataplane->stats();
  auto out = stats_json(dataplane, ctx_.tunnels->counters(), ctx_.tunnels->live_tunnels());
  const auto cfg = ctx_.config();
  // The limits in force: a reload sets the configuration and the workers' limits together.
  if (dataplane && cfg->dataplane) out["dataplane"]["exception_limits"] = exception_limits_json(cfg->dataplane->exception_limits);
  std::optional<dns::DelegationStats> delegation;
  if (ctx_.dns_delegation && cfg->dns_delegation) delegation = ctx_.dns_delegation();
  out["dns_delegation"] = delegation ? delegation_json(cfg->dns_delegation->file, *delegation) : nlohmann::json(nullptr);
  return encode_ok(out);
}

std::string AdminCommands::reload() {
  if (!ctx_.reload) return encode_error(ErrorStatus::Refused, "this daemon cannot reload its configuration");
  std::string error;
  if (!ctx_.reload(error)) return encode_error(ErrorStatus::Refused, error);
  return encode_ok({{"action", "reloaded"}});
}

std::string AdminCommands::sources() {
  if (!ctx_.sessions) return encode_error(ErrorStatus::Refused, "this daemon serves no TSP sessions");
  return sources_list(ctx_.sessions->snapshot(), ctx_.tunnels->anonymous_by_address(),
                      ctx_.config()->max_anonymous_per_address,
                      ctx_.dataplane ? ctx_.dataplane->policed_tsp_sources() : std::vector<dp::PolicedSource>{});
}

std::string AdminCommands::history(const AdminRequest& request) {
  if (!ctx_.history) return encode_error(ErrorStatus::Refused, "this daemon keeps no tunnel history");
  return history_list(*ctx_.history, request);
}

std::string AdminCommands::lockouts(const AdminRequest& request) {
  if (!ctx_.lockout) return encode_error(ErrorStatus::Refused, "this daemon keeps no lockouts");
  if (request.command == Command::Unlock) return lockout_unlock(*ctx_.lockout, request.target, ctx_.now());
  if (request.command == Command::UnlockUser) return lockout_unlock_user(*ctx_.lockout, request.name, ctx_.now());
  return lockouts_list(*ctx_.lockout, ctx_.now());
}

std::string AdminCommands::users(const AdminRequest& request) {
  UserContext uc{*ctx_.store, ctx_.tunnels, ctx_.config()->tsp().realm, ctx_.now(), ctx_.lockout};
  switch (request.command) {
    case Command::UserAdd:
      return user_add(uc, request.name, request.password);
    case Command::UserPasswd:
      return user_passwd(uc, request.name, request.password);
    case Command::UserDel:
      return user_del(uc, request.name);
    case Command::UserShow:
      return user_show(uc, request.name);
    default:
      return users_list(uc);
  }
}

}  // namespace tsp::admin
