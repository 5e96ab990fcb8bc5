// The daemon's side of tspctl: runs one admin request against the tunnel service, the store
// and the dataplane. Called on the daemon's I/O thread; what may be big (the tunnel listing)
// comes back as a snapshot plus a render step that the caller runs on another thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "config/broker_config.hpp"
#include "control/admin/admin_protocol.hpp"
#include "control/auth_lockout.hpp"
#include "control/dns/delegation_writer.hpp"
#include "control/session_limiter.hpp"
#include "control/store/store.hpp"
#include "control/store/tunnel_history.hpp"
#include "control/tunnel_service.hpp"
#include "dataplane/dataplane.hpp"

namespace tsp::admin {

struct AdminContext {
  std::function<std::shared_ptr<const config::Config>()> config;  // the running configuration
  store::Store* store = nullptr;
  store::TunnelHistory* history = nullptr;  // null: history not offered
  TunnelService* tunnels = nullptr;
  const dp::Dataplane* dataplane = nullptr;              // null: control plane only
  std::function<bool(std::string& error)> reload;        // empty: reload not offered
  std::function<int64_t()> now;                          // unix seconds
  AuthLockout* lockout = nullptr;                        // null: lockouts not offered
  const SessionLimiter* sessions = nullptr;              // the TSP servers' limiter; null: sources not offered
  // The zone file writer's figures (control/dns/); empty, or nullopt: delegation is off.
  std::function<std::optional<dns::DelegationStats>()> dns_delegation;
};

// A reply line now, or a function that builds it (any thread; it owns its snapshot).
struct CommandResult {
  std::string reply;
  std::function<std::string()> render;
};

class AdminCommands {
 public:
  explicit AdminCommands(AdminContext ctx);
  CommandResult run(const AdminRequest& request);

 private:
  CommandResult tunnels();
  std::string tunnel(const std::string& target);
  std::string kick(const std::string& target);
  std::string pools();
  std::string stats();
  std::string reload();
  std::string users(const AdminRequest& request);
  std::string lockouts(const AdminRequest& request);
  std::string sources();
  std::string history(const AdminRequest& request);

  AdminContext ctx_;
};

}  // namespace tsp::admin
