#include "tools/tspctl/local_fallback.hpp"

#include <ctime>

#include "control/admin/history_commands.hpp"
#include "control/admin/user_commands.hpp"
#include "control/store/store.hpp"
#include "control/store/tunnel_history.hpp"

namespace tsp::tspctl {

using admin::Command;

bool works_without_daemon(Command command) {
  switch (command) {
    case Command::Users:
    case Command::UserAdd:
    case Command::UserPasswd:
    case Command::UserDel:
    case Command::UserShow:
    case Command::History:
      return true;
    default:
      return false;
  }
}

std::string run_on_store(const config::Config& cfg, const admin::AdminRequest& request) {
  if (request.command == Command::History) {
    store::TunnelHistory history(store::TunnelHistory::path_beside(cfg.store.sqlite_path));
    return admin::history_list(history, request);
  }
  auto store = store::Store::open_sqlite(cfg.store.sqlite_path);
  admin::UserContext ctx{*store, nullptr, cfg.tsp().realm, static_cast<int64_t>(std::time(nullptr))};
  switch (request.command) {
    case Command::UserAdd:
      return admin::user_add(ctx, request.name, request.password);
    case Command::UserPasswd:
      return admin::user_passwd(ctx, request.name, request.password);
    case Command::UserDel: {
      // The deleted tunnels' history records end here, not as "lost" at the next start.
      store::TunnelHistory history(store::TunnelHistory::path_beside(cfg.store.sqlite_path));
      ctx.history = &history;
      return admin::user_del(ctx, request.name);
    }
    case Command::UserShow:
      return admin::user_show(ctx, request.name);
    default:
      return admin::users_list(ctx);
  }
}

}  // namespace tsp::tspctl
