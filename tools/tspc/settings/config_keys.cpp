#include "tools/tspc/settings/config_keys.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "tools/tspc/settings/config_values.hpp"

namespace tsp::tspc::detail {
namespace {

std::string limited_text(std::string_view key, std::string_view value, size_t max) {
  if (value.size() > max)
    throw BadValue(std::string(key) + ": longer than " + std::to_string(max) + " characters");
  return std::string(value);
}

void set_auth_method(TspcConfig& cfg, std::string_view v) {
  if (lower(v) == "passdss-3des-1")
    throw BadValue("auth_method: passdss-3des-1 is not supported by this client "
                   "(use any, scram-sha-256, digest-md5, plain or anonymous)");
  constexpr AuthMethod kMethods[] = {AuthMethod::Any, AuthMethod::ScramSha256, AuthMethod::DigestMd5, AuthMethod::Plain,
                                     AuthMethod::Anonymous};
  cfg.auth_method =
      kMethods[parse_choice("auth_method", v, {"any", "scram-sha-256", "digest-md5", "plain", "anonymous"})];
}

void set_tunnel_mode(TspcConfig& cfg, std::string_view v) {
  if (lower(v) == "dslite")
    throw BadValue("tunnel_mode: dslite is not supported on Linux (use v6anyv4, v6v4, v6udpv4 or v4v6)");
  constexpr TunnelMode kModes[] = {TunnelMode::V6V4, TunnelMode::V6UdpV4, TunnelMode::V6AnyV4,
                                   TunnelMode::V4V6};
  cfg.tunnel_mode = kModes[parse_choice("tunnel_mode", v, {"v6v4", "v6udpv4", "v6anyv4", "v4v6"})];
}

void set_syslog_level(TspcConfig& cfg, std::string_view v) {
  // The classic tspc names syslog priorities; map them onto our three message levels.
  constexpr int kLevels[] = {1, 1, 2, 2, 3, 0, 1, 2, 3};
  cfg.syslog_level = kLevels[parse_choice(
      "syslog_level", v, {"ERR", "WARNING", "NOTICE", "INFO", "DEBUG", "0", "1", "2", "3"})];
}

void set_syslog_facility(TspcConfig& cfg, std::string_view v) {
  parse_choice("syslog_facility", v,
               {"USER", "LOCAL0", "LOCAL1", "LOCAL2", "LOCAL3", "LOCAL4", "LOCAL5", "LOCAL6", "LOCAL7"});
  cfg.syslog_facility = std::string(v);
  for (auto& c : cfg.syslog_facility) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
}

void set_dns_server(TspcConfig& cfg, std::string_view v) {
  cfg.dns_server.clear();
  while (true) {
    const auto colon = v.find(':');
    const auto name = v.substr(0, colon);
    if (!is_hostname(name))
      throw BadValue("dns_server: " + quoted(name) + " is not a host name (list names separated by ':')");
    cfg.dns_server.emplace_back(name);
    if (colon == std::string_view::npos) break;
    v.remove_prefix(colon + 1);
  }
}

void set_prefixlen(TspcConfig& cfg, std::string_view v) {
  constexpr unsigned kLens[] = {0, 48, 64};
  cfg.prefixlen = kLens[parse_choice("prefixlen", v, {"0", "48", "64"})];
}

void set_rotation_size(TspcConfig& cfg, std::string_view v) {
  constexpr unsigned kSizes[] = {16, 32, 128, 1024};
  cfg.log_rotation_size = kSizes[parse_choice("log_rotation_size", v, {"16", "32", "128", "1024"})];
}

void set_client_v6(TspcConfig& cfg, std::string_view v) {
  if (lower(v) == "auto") {
    cfg.client_v6.reset();
    return;
  }
  cfg.client_v6 = Ipv6Addr::parse(v);
  if (!cfg.client_v6) throw BadValue("client_v6: " + quoted(v) + " is not 'auto' or an IPv6 address");
}

using Cfg = TspcConfig;
using Sv = std::string_view;

// Sorted by name for the binary search below.
constexpr std::array kKeys = {
    ConfigKey{"always_use_same_server", "", [](Cfg& c, Sv v) { c.always_use_same_server = parse_yes_no("always_use_same_server", v); }},
    ConfigKey{"auth_method", "", set_auth_method},
    ConfigKey{"auto_retry_connect", "", [](Cfg& c, Sv v) { c.auto_retry_connect = parse_yes_no("auto_retry_connect", v); }},
    ConfigKey{"broker_list", "", [](Cfg& c, Sv v) { c.broker_list = limited_text("broker_list", v, 4096); }},
    ConfigKey{"client_v4", "", [](Cfg& c, Sv v) { c.client_v4 = parse_auto_ipv4("client_v4", v); }},
    ConfigKey{"client_v6", "", set_client_v6},
    ConfigKey{"dns_server", "", set_dns_server},
    ConfigKey{"dslite_client", "", [](Cfg& c, Sv v) { c.dslite_client = parse_ipv4("dslite_client", v); }},
    ConfigKey{"dslite_server", "", [](Cfg& c, Sv v) { c.dslite_server = parse_ipv4("dslite_server", v); }},
    ConfigKey{"gogoc_dir", "tsp_dir", [](Cfg& c, Sv v) { c.tsp_dir = limited_text("gogoc_dir", v, 4096); }},
    ConfigKey{"haccess_document_root", "", [](Cfg& c, Sv v) { c.haccess_document_root = limited_text("haccess_document_root", v, 4096); }},
    ConfigKey{"haccess_proxy_enabled", "", [](Cfg& c, Sv v) { c.haccess_proxy_enabled = parse_yes_no("haccess_proxy_enabled", v); }},
    ConfigKey{"haccess_web_enabled", "", [](Cfg& c, Sv v) { c.haccess_web_enabled = parse_yes_no("haccess_web_enabled", v); }},
    ConfigKey{"host_type", "", [](Cfg& c, Sv v) { c.host_type = parse_choice("host_type", v, {"host", "router"}) ? HostType::Router : HostType::Host; }},
    ConfigKey{"if_prefix", "", [](Cfg& c, Sv v) { c.if_prefix = parse_interface_name("if_prefix", v); }},
    ConfigKey{"if_source", "", [](Cfg& c, Sv v) { c.if_source = parse_ipv4("if_source", v); }},
    ConfigKey{"if_tunnel_v4v6", "", [](Cfg& c, Sv v) { c.if_tunnel_v4v6 = parse_interface_name("if_tunnel_v4v6", v); }},
    ConfigKey{"if_tunnel_v6udpv4", "", [](Cfg& c, Sv v) { c.if_tunnel_v6udpv4 = parse_interface_name("if_tunnel_v6udpv4", v); }},
    ConfigKey{"if_tunnel_v6v4", "", [](Cfg& c, Sv v) { c.if_tunnel_v6v4 = parse_interface_name("if_tunnel_v6v4", v); }},
    ConfigKey{"keepalive", "", [](Cfg& c, Sv v) { c.keepalive = parse_yes_no("keepalive", v); }},
    ConfigKey{"keepalive_interval", "", [](Cfg& c, Sv v) { c.keepalive_interval = parse_unsigned("keepalive_interval", v, 0, 3600); }},
    ConfigKey{"last_server", "", [](Cfg& c, Sv v) { c.last_server = limited_text("last_server", v, 4096); }},
    ConfigKey{"log_console", "", [](Cfg& c, Sv v) { c.log_console = parse_log_level("log_console", v); }},
    ConfigKey{"log_file", "", [](Cfg& c, Sv v) { c.log_file = parse_log_level("log_file", v); }},
    ConfigKey{"log_filename", "", [](Cfg& c, Sv v) { c.log_filename = limited_text("log_filename", v, 4096); }},
    ConfigKey{"log_rotation", "", [](Cfg& c, Sv v) { c.log_rotation = parse_yes_no("log_rotation", v); }},
    ConfigKey{"log_rotation_delete", "", [](Cfg& c, Sv v) { c.log_rotation_delete = parse_yes_no("log_rotation_delete", v); }},
    ConfigKey{"log_rotation_size", "", set_rotation_size},
    ConfigKey{"log_stderr", "", [](Cfg& c, Sv v) { c.log_stderr = parse_log_level("log_stderr", v); }},
    ConfigKey{"log_syslog", "", [](Cfg& c, Sv v) { c.log_syslog = parse_log_level("log_syslog", v); }},
    ConfigKey{"passwd", "", [](Cfg& c, Sv v) { c.passwd = limited_text("passwd", v, 128); }},
    ConfigKey{"prefixlen", "", set_prefixlen},
    ConfigKey{"proxy_client", "", [](Cfg& c, Sv v) { c.proxy_client = parse_yes_no("proxy_client", v); }},
    ConfigKey{"retry_delay", "", [](Cfg& c, Sv v) { c.retry_delay = parse_unsigned("retry_delay", v, 0, 3600); }},
    ConfigKey{"retry_delay_max", "", [](Cfg& c, Sv v) { c.retry_delay_max = parse_unsigned("retry_delay_max", v, 0, 3600); }},
    ConfigKey{"server", "", [](Cfg& c, Sv v) { c.server = parse_server_address(v); }},
    ConfigKey{"syslog_facility", "", set_syslog_facility},
    ConfigKey{"syslog_level", "", set_syslog_level},
    ConfigKey{"template", "", [](Cfg& c, Sv v) { c.template_name = parse_template_name(v); }},
    ConfigKey{"tsp_dir", "", [](Cfg& c, Sv v) { c.tsp_dir = limited_text("tsp_dir", v, 4096); }},
    ConfigKey{"tsp_version", "", [](Cfg& c, Sv v) {
      constexpr std::string_view kVersions[] = {"2.0.2", "2.0.1", "2.0.0", "1.0.1"};
      c.tsp_version = kVersions[parse_choice("tsp_version", v, {"2.0.2", "2.0.1", "2.0.0", "1.0.1"})];
    }},
    ConfigKey{"tunnel_mode", "", set_tunnel_mode},
    ConfigKey{"userid", "", [](Cfg& c, Sv v) { c.userid = limited_text("userid", v, 253); }},
};

constexpr bool sorted_by_name() {
  for (size_t i = 1; i < kKeys.size(); ++i)
    if (!(kKeys[i - 1].name < kKeys[i].name)) return false;
  return true;
}
static_assert(sorted_by_name(), "kKeys must stay sorted by name");

}  // namespace

const ConfigKey* find_config_key(std::string_view name) {
  const auto it = std::lower_bound(kKeys.begin(), kKeys.end(), name,
                                   [](const ConfigKey& k, std::string_view n) { return k.name < n; });
  return it != kKeys.end() && it->name == name ? &*it : nullptr;
}

}  // namespace tsp::tspc::detail
