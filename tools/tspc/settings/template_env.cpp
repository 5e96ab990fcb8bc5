#include "tools/tspc/settings/template_env.hpp"

#include "tools/tspc/settings/config_values.hpp"

namespace tsp::tspc {
namespace {

std::string default_interface(const TspcConfig& cfg, std::string_view mode) {
  if (mode == "v6udpv4") return cfg.if_tunnel_v6udpv4;
  if (mode == "v4v6") return cfg.if_tunnel_v4v6;
  return cfg.if_tunnel_v6v4;
}

}  // namespace

std::string template_prefix_text(std::string_view offered, unsigned len) {
  const auto addr = Ipv6Addr::parse(offered);
  if (!addr) return detail::lower(offered);
  const std::string expanded = addr->to_expanded_string();  // 8 groups of 4 digits + ':'
  const unsigned groups = len == 0 || len > 128 ? 8 : (len + 15) / 16;
  return expanded.substr(0, groups * 5 - 1);
}

TemplateEnvironment template_environment(const TspcConfig& cfg, const TunnelInfo& info,
                                         TemplateOperation op) {
  TemplateEnvironment env;
  const auto add = [&](std::string name, std::string value) { env.emplace_back(std::move(name), std::move(value)); };
  add("TSP_OPERATION", op == TemplateOperation::Creation ? "TSP_TUNNEL_CREATION" : "TSP_TUNNEL_TEARDOWN");
  add("TSP_VERBOSE", "3");
  add("TSP_HOME_DIR", cfg.tsp_dir);
  add("TSP_TUNNEL_MODE", info.mode);
  add("TSP_HOST_TYPE", std::string(to_string(info.host_type)));
  add("TSP_TUNNEL_INTERFACE", info.tunnel_interface.empty() ? default_interface(cfg, info.mode) : info.tunnel_interface);
  add("TSP_HOME_INTERFACE", cfg.if_prefix);
  add("TSP_CLIENT_ADDRESS_IPV4", info.client_v4.to_string());
  add("TSP_CLIENT_ADDRESS_IPV6", info.client_v6.to_string());
  add("TSP_CLIENT_DNS_ADDRESS_IPV6", info.dns_v6 ? info.dns_v6->to_string() : "");
  if (!info.dns_name.empty()) add("TSP_CLIENT_DNS_NAME", info.dns_name);
  add("TSP_SERVER_ADDRESS_IPV4", info.server_v4.to_string());
  add("TSP_SERVER_ADDRESS_IPV6", info.server_v6.to_string());
  add("TSP_TUNNEL_PREFIXLEN", info.mode == "v4v6" ? "32" : "128");
  if (!info.prefix_text.empty()) {
    add("TSP_PREFIX", template_prefix_text(info.prefix_text, info.prefix_len));
    add("TSP_PREFIXLEN", std::to_string(info.prefix_len));
  }
  return env;
}

}  // namespace tsp::tspc
