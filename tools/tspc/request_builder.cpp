#include "tools/tspc/request_builder.hpp"

#include "control/framing.hpp"

namespace tsp::tspc {

xml::RequestSpec make_request_spec(const TspcConfig& cfg, Ipv4Addr socket_local_address) {
  xml::RequestSpec spec;
  spec.type = std::string(to_string(cfg.tunnel_mode));
  spec.proxy = cfg.proxy_client;
  spec.client_ipv4 = cfg.client_v4.value_or(socket_local_address).to_string();
  if (cfg.keepalive) spec.keepalive_interval = cfg.keepalive_interval;
  if (cfg.host_type == HostType::Router) {
    spec.router = true;
    spec.prefix_length = cfg.prefixlen;
    spec.dns_names = cfg.dns_server;
  }
  return spec;
}

std::string create_request_message(const TspcConfig& cfg, Ipv4Addr socket_local_address) {
  return frame_content(xml::write_request_xml(make_request_spec(cfg, socket_local_address)));
}

}  // namespace tsp::tspc
