// Rules between tspc.conf keys, checked after the command line has overridden some of them.
#include <string>

#include "tools/tspc/settings/config_values.hpp"
#include "tools/tspc/settings/tspc_config.hpp"

namespace tsp::tspc {
namespace {

void check_values_the_command_line_sets(const TspcConfig& cfg) {
  detail::parse_interface_name("if_tunnel_v6v4", cfg.if_tunnel_v6v4);
  detail::parse_interface_name("if_tunnel_v6udpv4", cfg.if_tunnel_v6udpv4);
  detail::parse_interface_name("if_tunnel_v4v6", cfg.if_tunnel_v4v6);
  if (!cfg.if_prefix.empty()) detail::parse_interface_name("if_prefix", cfg.if_prefix);
  if (cfg.retry_delay > 3600) throw detail::BadValue("retry_delay: " + std::to_string(cfg.retry_delay) + " is not in 0..3600");
}

void check_authentication(const TspcConfig& cfg) {
  if (uses_anonymous(cfg)) return;
  const std::string method(to_string(cfg.auth_method));
  if (cfg.userid.empty())
    throw detail::BadValue("userid: required with auth_method=" + method);
  if (cfg.passwd.empty())
    throw detail::BadValue("passwd: required with auth_method=" + method +
                           " (leave userid empty or set auth_method=anonymous for an anonymous tunnel)");
}

void check_tunnel(const TspcConfig& cfg) {
  if (cfg.proxy_client && cfg.tunnel_mode == TunnelMode::V6UdpV4)
    throw detail::BadValue("proxy_client: 'yes' cannot be used with tunnel_mode=v6udpv4");
  if (cfg.proxy_client && cfg.keepalive)
    throw detail::BadValue("proxy_client: 'yes' needs keepalive=no");
  if (cfg.keepalive && cfg.keepalive_interval == 0)
    throw detail::BadValue("keepalive_interval: must be greater than 0 when keepalive=yes");
  if (cfg.host_type == HostType::Router) {
    if (cfg.if_prefix.empty())
      throw detail::BadValue("if_prefix: required with host_type=router (the LAN interface for the prefix; or -s IF)");
    const bool v6v4 = cfg.tunnel_mode == TunnelMode::V6V4 || cfg.tunnel_mode == TunnelMode::V6AnyV4;
    const bool v6udp = cfg.tunnel_mode == TunnelMode::V6UdpV4 || cfg.tunnel_mode == TunnelMode::V6AnyV4;
    if ((v6v4 && cfg.if_prefix == cfg.if_tunnel_v6v4) || (v6udp && cfg.if_prefix == cfg.if_tunnel_v6udpv4))
      throw detail::BadValue("if_prefix: '" + cfg.if_prefix + "' is also the tunnel interface");
  }
}

}  // namespace

void validate(const TspcConfig& cfg) {
  const std::string file = cfg.file.empty() ? "configuration" : cfg.file;
  try {
    check_values_the_command_line_sets(cfg);
    if (cfg.server.host.empty()) throw detail::BadValue("required key 'server' is missing");
    if (cfg.template_name.empty()) throw detail::BadValue("required key 'template' is missing");
    check_authentication(cfg);
    check_tunnel(cfg);
  } catch (const detail::BadValue& e) {
    throw ConfigError(file, 0, e.what());
  }
}

}  // namespace tsp::tspc
