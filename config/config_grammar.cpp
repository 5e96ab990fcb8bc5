#include "config/config_grammar.hpp"

#include <algorithm>
#include <cctype>
#include <utility>
#include <cstdint>

#include "config/config_values.hpp"

namespace tsp::config {

namespace {

constexpr size_t unlimited = SIZE_MAX;
constexpr size_t max_redirect_brokers = 50;  // legacy clients keep at most 50 (protocol §6)

// ---- top level -------------------------------------------------------------------------

void add_pool(ParseState& s, const StatementCall& c) {
  PoolConfig pool;
  pool.name = parse_name(c.args[0], "pool name");
  pool.range = parse_ipv6_prefix(c.args[1]);
  pool.block_len = static_cast<unsigned>(parse_number(c.args[2], 1, 128, "pool block length"));
  pool.line = c.line;
  for (const auto& other : s.pools) {
    if (other.name == pool.name) {
      throw ValueError("duplicate pool " + quote(pool.name) + " (already defined at line " +
                       std::to_string(other.line) + ")");
    }
  }
  if (pool.block_len < pool.range.len) {
    throw ValueError("pool " + quote(pool.name) + ": blocks of /" + std::to_string(pool.block_len) +
                     " do not fit in " + pool.range.to_string() +
                     " (the block length must be between the prefix length and 128)");
  }
  // Overlapping pools would hand the same addresses out twice.
  for (const auto& other : s.pools) {
    if (other.range.contains(pool.range) || pool.range.contains(other.range)) {
      throw ValueError("pool " + quote(pool.name) + " (" + pool.range.to_string() + ") overlaps pool " +
                       quote(other.name) + " (" + other.range.to_string() + ", line " +
                       std::to_string(other.line) + ")");
    }
  }
  s.pools.push_back(std::move(pool));
}

// The name of a new block, refused if a block of the same kind already has it.
template <class Draft>
std::string new_block_name(const std::vector<Draft>& existing, std::string_view text, std::string_view kind) {
  std::string name = parse_name(text, std::string(kind) + " name");
  for (const auto& d : existing) {
    if (d.config.name == name) {
      throw ValueError("duplicate " + std::string(kind) + " " + quote(name) + " (already defined at line " +
                       std::to_string(d.config.line) + ")");
    }
  }
  return name;
}

void open_tsp(ParseState& s, const StatementCall& c) {
  TspDraft draft;
  draft.config.name = new_block_name(s.tsps, c.args[0], "tsp");
  draft.config.line = c.line;
  s.tsps.push_back(std::move(draft));
  s.open_block = BlockKind::Tsp;
}

void open_tunnel_server(ParseState& s, const StatementCall& c) {
  TunnelServerDraft draft;
  draft.config.name = new_block_name(s.servers, c.args[0], "tunnel server");
  draft.config.line = c.line;
  s.servers.push_back(std::move(draft));
  s.open_block = BlockKind::TunnelServer;
}

void open_tunnel_broker(ParseState& s, const StatementCall& c) {
  if (s.broker) {
    throw ValueError("more than one tunnel broker: " + quote(s.broker->config.name) + " is already defined at line " +
                     std::to_string(s.broker->config.line) + " (one daemon runs one broker)");
  }
  BrokerDraft draft;
  draft.config.name = parse_name(c.args[0], "tunnel broker name");
  draft.config.line = c.line;
  s.broker = std::move(draft);
  s.open_block = BlockKind::TunnelBroker;
}

void set_store_sqlite(ParseState& s, const StatementCall& c) { s.store.sqlite_path = std::string(c.args[0]); }

void set_limit_tunnels(ParseState& s, const StatementCall& c) {
  s.max_tunnels = static_cast<uint32_t>(parse_number(c.args[0], 1, 16777216, "limit tunnels"));
}

void set_limit_anonymous_per_address(ParseState& s, const StatementCall& c) {
  s.max_anonymous_per_address =
      static_cast<uint32_t>(parse_number(c.args[0], 0, 16777216, "limit anonymous per-address"));
}

void set_history_keep(ParseState& s, const StatementCall& c) {
  s.history_keep_days = static_cast<uint32_t>(parse_number(c.args[0], 0, 36500, "history keep (days)"));
}

void set_log_level(ParseState& s, const StatementCall& c) {
  static constexpr std::array<std::string_view, 5> levels{"trace", "debug", "info", "warning", "error"};
  for (auto level : levels) {
    if (keyword_equals(c.args[0], level)) {
      s.log_level = std::string(level);
      return;
    }
  }
  throw ValueError("unknown log level " + quote(c.args[0]) + " (use trace, debug, info, warning or error)");
}

void set_admin_socket(ParseState& s, const StatementCall& c) {
  const auto path = c.args[0];
  // sockaddr_un holds 107 bytes and a NUL.
  if (path.size() > 107) throw ValueError("admin socket path " + quote(path) + " is longer than 107 bytes");
  s.admin.socket_path = std::string(path);
}

void set_admin_group(ParseState& s, const StatementCall& c) {
  s.admin.group = parse_name(c.args[0], "admin group");
}

void set_metrics_listen(ParseState& s, const StatementCall& c) {
  MetricsConfig m;
  const auto address = Ipv4Addr::parse(c.args[0]);
  if (!address) throw ValueError("metrics address " + quote(c.args[0]) + " is not an IPv4 address");
  m.address = *address;
  m.port = parse_port(c.args[1]);
  s.metrics = m;
}

void set_dns_delegation_file(ParseState& s, const StatementCall& c) {
  if (c.args[0].empty()) throw ValueError("dns delegation file: empty path");
  s.dns_delegation.file = std::string(c.args[0]);
  s.dns_delegation_file_line = c.line;
}

void note_dns_delegation_option(ParseState& s, const StatementCall& c) {
  if (s.dns_delegation_other_line == 0) s.dns_delegation_other_line = c.line;
}

void set_dns_delegation_ttl(ParseState& s, const StatementCall& c) {
  s.dns_delegation.ttl = static_cast<uint32_t>(parse_number(c.args[0], 60, 604800, "dns delegation ttl"));
  note_dns_delegation_option(s, c);
}

void set_dns_delegation_reload(ParseState& s, const StatementCall& c) {
  s.dns_delegation.reload_command.assign(c.args.begin(), c.args.end());
  note_dns_delegation_option(s, c);
}

void set_metrics_per_tunnel(ParseState& s, const StatementCall& c) {
  s.metrics_per_tunnel = true;
  s.metrics_per_tunnel_line = c.line;
}

void claim_log_target(ParseState& s, const StatementCall& c) {
  if (s.log_target_line != 0) {
    throw ValueError("the log target is already set at line " + std::to_string(s.log_target_line) +
                     " (use either 'log stderr' or 'log syslog')");
  }
  s.log_target_line = c.line;
}

void set_log_stderr(ParseState& s, const StatementCall& c) {
  claim_log_target(s, c);
  s.log_target.syslog = false;
}

void set_log_syslog(ParseState& s, const StatementCall& c) {
  claim_log_target(s, c);
  s.log_target.syslog = true;
  if (c.args.empty()) return;
  static constexpr std::array<std::string_view, 10> facilities{
      "daemon", "user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"};
  for (auto facility : facilities) {
    if (keyword_equals(c.args[0], facility)) {
      s.log_target.facility = std::string(facility);
      return;
    }
  }
  throw ValueError("unknown syslog facility " + quote(c.args[0]) + " (use daemon, user or local0 to local7)");
}

// ---- tsp block -------------------------------------------------------------------------

TspDraft& tsp(ParseState& s) { return s.tsps.back(); }

void set_tsp_address(ParseState& s, const StatementCall& c) {
  tsp(s).config.address = parse_unicast_ipv4(c.args[0]);
  tsp(s).has_address = true;
}

void set_udp_port(ParseState& s, const StatementCall& c) { tsp(s).config.udp_port = parse_port(c.args[0]); }
void set_tcp_port(ParseState& s, const StatementCall& c) { tsp(s).config.tcp_port = parse_port(c.args[0]); }

void add_auth_mechanisms(ParseState& s, const StatementCall& c) {
  static constexpr std::array mechanisms{AuthMechanism::Anonymous, AuthMechanism::Plain, AuthMechanism::DigestMd5,
                                         AuthMechanism::ScramSha256};
  auto& draft = tsp(s);
  for (auto word : c.args) {
    const auto* found = std::find_if(mechanisms.begin(), mechanisms.end(),
                                     [&](AuthMechanism m) { return keyword_equals(word, to_string(m)); });
    if (found == mechanisms.end()) {
      throw ValueError("unknown authentication mechanism " + quote(word) +
                       " (use anonymous, plain, digest-md5 or scram-sha-256)");
    }
    const auto [seen, inserted] = draft.auth_lines.emplace(*found, c.line);
    if (!inserted) {
      throw ValueError("authentication mechanism '" + std::string(to_string(*found)) +
                       "' is listed twice (also at line " + std::to_string(seen->second) + ")");
    }
    draft.config.auth.push_back(*found);
  }
}

void set_realm(ParseState& s, const StatementCall& c) {
  const auto realm = c.args[0];
  // The realm goes between double quotes in a comma-separated DIGEST-MD5 challenge, which
  // legacy clients split on every comma.
  const bool fits = realm.size() <= 128 && std::all_of(realm.begin(), realm.end(), [](char ch) {
    return ch > ' ' && ch < 0x7f && ch != '"' && ch != '\\' && ch != ',';
  });
  if (!fits) {
    throw ValueError("realm " + quote(realm) +
                     " must be at most 128 printable ASCII characters without '\"', '\\' or ','");
  }
  tsp(s).config.realm = std::string(realm);
}

void set_lockout_failures(ParseState& s, const StatementCall& c) {
  tsp(s).config.lockout_failures = static_cast<unsigned>(parse_number(c.args[0], 0, 1000, "lockout failures"));
}

void set_lockout_window(ParseState& s, const StatementCall& c) {
  tsp(s).config.lockout_window = static_cast<unsigned>(parse_number(c.args[0], 1, 86400, "lockout window"));
}

void set_lockout_user_failures(ParseState& s, const StatementCall& c) {
  tsp(s).config.lockout_user_failures =
      static_cast<unsigned>(parse_number(c.args[0], 0, 100000, "lockout user-failures"));
}

void set_lockout_user_window(ParseState& s, const StatementCall& c) {
  tsp(s).config.lockout_user_window = static_cast<unsigned>(parse_number(c.args[0], 1, 604800, "lockout user-window"));
}

void set_lockout_save_interval(ParseState& s, const StatementCall& c) {
  tsp(s).config.lockout_save_interval =
      static_cast<unsigned>(parse_number(c.args[0], 0, 86400, "lockout save-interval"));
}

void set_lockout_duration(ParseState& s, const StatementCall& c) {
  tsp(s).config.lockout_duration = static_cast<unsigned>(parse_number(c.args[0], 1, 86400, "lockout duration"));
}

void set_keepalive_interval(ParseState& s, const StatementCall& c) {
  tsp(s).config.keepalive_interval = static_cast<unsigned>(parse_number(c.args[0], 5, 3600, "keepalive interval"));
}

void set_keepalive_missed(ParseState& s, const StatementCall& c) {
  tsp(s).config.keepalive_missed = static_cast<unsigned>(parse_number(c.args[0], 1, 100, "keepalive missed"));
}

void set_max_sessions(ParseState& s, const StatementCall& c) {
  tsp(s).config.max_sessions = static_cast<unsigned>(parse_number(c.args[0], 1, 1000000, "max sessions"));
}

void set_max_sessions_per_address(ParseState& s, const StatementCall& c) {
  tsp(s).config.max_sessions_per_address =
      static_cast<unsigned>(parse_number(c.args[0], 0, 1000000, "max sessions per-address"));
}

void set_session_timeout(ParseState& s, const StatementCall& c) {
  tsp(s).config.session_timeout = static_cast<unsigned>(parse_number(c.args[0], 5, 3600, "session timeout"));
}

// ---- tunnel server block ---------------------------------------------------------------

TunnelServerDraft& server(ParseState& s) { return s.servers.back(); }

void set_server_address(ParseState& s, const StatementCall& c) {
  server(s).config.address = parse_unicast_ipv4(c.args[0]);
  server(s).has_address = true;
}

void set_server_ipv6_address(ParseState& s, const StatementCall& c) {
  server(s).ipv6_address = parse_unicast_ipv6(c.args[0]);
  server(s).ipv6_address_line = c.line;
}

void set_endpoint_pool(ParseState& s, const StatementCall& c) {
  server(s).endpoint_pool = Reference{parse_name(c.args[0], "pool name"), c.line};
}

void add_prefix_pool(ParseState& s, const StatementCall& c) {
  auto& draft = server(s);
  Reference ref{parse_name(c.args[0], "pool name"), c.line};
  for (const auto& other : draft.prefix_pools) {
    if (other.name == ref.name) {
      throw ValueError("pool " + quote(ref.name) + " is already a prefix pool of this tunnel server (line " +
                       std::to_string(other.line) + ")");
    }
  }
  draft.prefix_pools.push_back(std::move(ref));
}

void set_dns_server(ParseState& s, const StatementCall& c) { server(s).dns_server = parse_unicast_ipv6(c.args[0]); }

void set_mtu(ParseState& s, const StatementCall& c) {
  server(s).config.mtu = static_cast<unsigned>(parse_number(c.args[0], 1280, 9000, "mtu"));
}

void set_lifetime(ParseState& s, const StatementCall& c) {
  server(s).config.lifetime = static_cast<uint32_t>(parse_number(c.args[0], 1, UINT32_MAX, "lifetime"));
}

void set_quarantine(ParseState& s, const StatementCall& c) {
  server(s).config.quarantine = static_cast<uint32_t>(parse_number(c.args[0], 0, 31536000, "quarantine"));
}

// ---- tunnel broker block ---------------------------------------------------------------

BrokerDraft& broker(ParseState& s) { return *s.broker; }

void set_broker_tsp(ParseState& s, const StatementCall& c) {
  broker(s).tsp = Reference{parse_name(c.args[0], "tsp name"), c.line};
}

void set_broker_server(ParseState& s, const StatementCall& c) {
  broker(s).tunnel_server = Reference{parse_name(c.args[0], "tunnel server name"), c.line};
}

void add_redirect_broker(ParseState& s, const StatementCall& c) {
  auto& list = broker(s).config.redirect_brokers;
  std::string host = parse_host(c.args[0], "redirect broker");
  if (std::find(list.begin(), list.end(), host) != list.end()) {
    throw ValueError("redirect broker " + quote(host) + " is listed twice");
  }
  if (list.size() == max_redirect_brokers) {
    throw ValueError("more than " + std::to_string(max_redirect_brokers) +
                     " redirect brokers (legacy clients keep only the first 50)");
  }
  list.push_back(std::move(host));
}

// ---- dataplane block -------------------------------------------------------------------

constexpr uint64_t max_workers = 127;        // DPDK's 128 lcores, less the main one
constexpr size_t max_device_name = 63;       // RTE_ETH_NAME_MAX_LEN, less the NUL
constexpr size_t max_interface_name = 15;    // Linux IFNAMSIZ, less the NUL

DataplaneDraft& dataplane(ParseState& s) { return *s.dataplane; }

void open_dataplane(ParseState& s, const StatementCall& c) {
  DataplaneDraft draft;
  draft.config.line = c.line;
  s.dataplane = std::move(draft);
  s.open_block = BlockKind::Dataplane;
}

void add_eal_args(ParseState& s, const StatementCall& c) {
  for (auto word : c.args) dataplane(s).config.eal_args.emplace_back(word);
}

// DPDK device names: vdev names (net_af_packet0) or PCI addresses (0000:03:00.0).
std::string parse_device_name(std::string_view text) {
  const bool allowed = std::all_of(text.begin(), text.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-' || ch == '.' || ch == ':';
  });
  if (!allowed || text.size() > max_device_name) {
    throw ValueError("DPDK device name " + quote(text) + " must be at most 63 letters, digits, '_', '-', '.' or ':' "
                     "(e.g. net_af_packet0 or 0000:03:00.0)");
  }
  return std::string(text);
}

void set_ipv4_port(ParseState& s, const StatementCall& c) {
  dataplane(s).config.ipv4_port = parse_device_name(c.args[0]);
  dataplane(s).ipv4_port_line = c.line;
}

void set_ipv6_port(ParseState& s, const StatementCall& c) {
  dataplane(s).config.ipv6_port = parse_device_name(c.args[0]);
  dataplane(s).ipv6_port_line = c.line;
}

// "exception limit NAME RATE [BURST]": frames a second for the kernel, 0 = no limit.
constexpr uint64_t max_exception_rate = 100000000;
void set_exception_limit(ParseState& s, const StatementCall& c) {
  unsigned cls = dp::kExceptionLimitCount;
  for (unsigned k = 0; k < dp::kExceptionLimitCount; ++k)
    if (c.args[0] == dp::kExceptionLimitNames[k]) cls = k;
  if (cls == dp::kExceptionLimitCount) {
    throw ValueError("exception class " + quote(c.args[0]) + " is not one of neighbor, tsp, other, tsp-source");
  }
  dp::ExceptionLimit limit;
  limit.per_second = static_cast<uint32_t>(parse_number(c.args[1], 0, max_exception_rate, "frames per second"));
  if (c.args.size() > 2) {
    if (limit.per_second == 0) throw ValueError("a burst needs a rate (0 is no limit)");
    limit.burst = static_cast<uint32_t>(parse_number(c.args[2], 1, max_exception_rate, "burst"));
  } else {
    limit.burst = limit.per_second / 10 ? limit.per_second / 10 : (limit.per_second ? 1 : 0);
  }
  dataplane(s).config.exception_limits[cls] = limit;
}

void set_workers(ParseState& s, const StatementCall& c) {
  dataplane(s).config.workers = static_cast<unsigned>(parse_number(c.args[0], 1, max_workers, "workers"));
}

// "ADDRESS/LENGTH" of an interface: the address and its on-link prefix length.
std::pair<std::string_view, std::string_view> split_interface_address(std::string_view text, std::string_view example) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    throw ValueError("address " + quote(text) + " needs its prefix length (e.g. " + std::string(example) + ")");
  }
  return {text.substr(0, slash), text.substr(slash + 1)};
}

void set_dp_ipv4_address(ParseState& s, const StatementCall& c) {
  const auto [addr, len] = split_interface_address(c.args[0], "192.0.2.1/24");
  auto& d = dataplane(s);
  d.config.ipv4_address = parse_unicast_ipv4(addr);
  d.config.ipv4_prefix_len = static_cast<uint8_t>(parse_number(len, 1, 32, "IPv4 prefix length"));
  d.ipv4_address_line = c.line;
}

void set_dp_ipv6_address(ParseState& s, const StatementCall& c) {
  const auto [addr, len] = split_interface_address(c.args[0], "2001:db8:ffff::1/64");
  auto& d = dataplane(s);
  d.config.ipv6_address = parse_unicast_ipv6(addr);
  if (d.config.ipv6_address.bytes[0] == 0xFE && (d.config.ipv6_address.bytes[1] & 0xC0) == 0x80) {
    throw ValueError(d.config.ipv6_address.to_string() + " is a link-local address: the broker's uplink address "
                     "must be a global one");
  }
  d.config.ipv6_prefix_len = static_cast<uint8_t>(parse_number(len, 1, 128, "IPv6 prefix length"));
  d.ipv6_address_line = c.line;
}

void set_dp_ipv4_gateway(ParseState& s, const StatementCall& c) {
  dataplane(s).config.ipv4_gateway = parse_unicast_ipv4(c.args[0]);
  dataplane(s).ipv4_gateway_line = c.line;
}

void set_dp_ipv6_gateway(ParseState& s, const StatementCall& c) {
  dataplane(s).config.ipv6_gateway = parse_unicast_ipv6(c.args[0]);
  dataplane(s).ipv6_gateway_line = c.line;
}

std::string parse_interface_name(std::string_view text) {
  std::string name = parse_name(text, "tap interface name");
  if (name.size() > max_interface_name) {
    throw ValueError("tap interface name " + quote(text) + " is longer than 15 characters (Linux's limit)");
  }
  return name;
}

void set_ipv4_tap(ParseState& s, const StatementCall& c) {
  dataplane(s).config.ipv4_tap = parse_interface_name(c.args[0]);
  dataplane(s).ipv4_tap_line = c.line;
}

void set_ipv6_tap(ParseState& s, const StatementCall& c) {
  dataplane(s).config.ipv6_tap = parse_interface_name(c.args[0]);
  dataplane(s).ipv6_tap_line = c.line;
}

}  // namespace

const StatementTable& top_level_statements() {
  static const StatementTable table{"top level", {
      {{"ipv6", "local", "pool"}, "NAME PREFIX BLOCK-LENGTH", 3, 3, true, add_pool},
      {{"tsp"}, "NAME", 1, 1, true, open_tsp},
      {{"tunnel", "server"}, "NAME", 1, 1, true, open_tunnel_server},
      {{"tunnel", "broker"}, "NAME", 1, 1, true, open_tunnel_broker},
      {{"store", "sqlite"}, "PATH", 1, 1, false, set_store_sqlite},
      {{"limit", "tunnels"}, "COUNT", 1, 1, false, set_limit_tunnels},
      {{"limit", "anonymous", "per-address"}, "COUNT", 1, 1, false, set_limit_anonymous_per_address},
      {{"history", "keep"}, "DAYS", 1, 1, false, set_history_keep},
      {{"log", "level"}, "LEVEL", 1, 1, false, set_log_level},
      {{"log", "stderr"}, "", 0, 0, false, set_log_stderr},
      {{"log", "syslog"}, "[FACILITY]", 0, 1, false, set_log_syslog},
      {{"admin", "socket"}, "PATH", 1, 1, false, set_admin_socket},
      {{"admin", "group"}, "GROUP", 1, 1, false, set_admin_group},
      {{"metrics", "listen"}, "IPV4-ADDRESS PORT", 2, 2, false, set_metrics_listen},
      {{"metrics", "per-tunnel"}, "", 0, 0, false, set_metrics_per_tunnel},
      {{"dns", "delegation", "file"}, "PATH", 1, 1, false, set_dns_delegation_file},
      {{"dns", "delegation", "ttl"}, "SECONDS", 1, 1, false, set_dns_delegation_ttl},
      {{"dns", "delegation", "reload"}, "COMMAND [ARGUMENT...]", 1, unlimited, false, set_dns_delegation_reload},
      {{"dataplane"}, "", 0, 0, false, open_dataplane},
  }};
  return table;
}

const StatementTable& block_statements(BlockKind kind) {
  static const StatementTable tsp_table{"tsp block", {
      {{"ip", "address"}, "IPV4-ADDRESS", 1, 1, false, set_tsp_address},
      {{"transport", "udp"}, "PORT", 1, 1, false, set_udp_port},
      {{"transport", "tcp"}, "PORT", 1, 1, false, set_tcp_port},
      {{"authentication"}, "MECHANISM...", 1, unlimited, true, add_auth_mechanisms},
      {{"realm"}, "REALM", 1, 1, false, set_realm},
      {{"keepalive", "interval"}, "SECONDS", 1, 1, false, set_keepalive_interval},
      {{"keepalive", "missed"}, "COUNT", 1, 1, false, set_keepalive_missed},
      {{"max", "sessions"}, "COUNT", 1, 1, false, set_max_sessions},
      {{"max", "sessions", "per-address"}, "COUNT", 1, 1, false, set_max_sessions_per_address},
      {{"session", "timeout"}, "SECONDS", 1, 1, false, set_session_timeout},
      {{"lockout", "failures"}, "COUNT", 1, 1, false, set_lockout_failures},
      {{"lockout", "window"}, "SECONDS", 1, 1, false, set_lockout_window},
      {{"lockout", "duration"}, "SECONDS", 1, 1, false, set_lockout_duration},
      {{"lockout", "user-failures"}, "COUNT", 1, 1, false, set_lockout_user_failures},
      {{"lockout", "user-window"}, "SECONDS", 1, 1, false, set_lockout_user_window},
      {{"lockout", "save-interval"}, "SECONDS", 1, 1, false, set_lockout_save_interval},
  }};
  static const StatementTable server_table{"tunnel server block", {
      {{"ip", "address"}, "IPV4-ADDRESS", 1, 1, false, set_server_address},
      {{"ipv6", "address"}, "IPV6-ADDRESS", 1, 1, false, set_server_ipv6_address},
      {{"ipv6", "pool", "endpoints"}, "POOL", 1, 1, false, set_endpoint_pool},
      {{"ipv6", "pool", "prefix"}, "POOL", 1, 1, true, add_prefix_pool},
      {{"ipv6", "dns-server"}, "IPV6-ADDRESS", 1, 1, false, set_dns_server},
      {{"mtu"}, "BYTES", 1, 1, false, set_mtu},
      {{"lifetime"}, "SECONDS", 1, 1, false, set_lifetime},
      {{"quarantine"}, "SECONDS", 1, 1, false, set_quarantine},
  }};
  static const StatementTable broker_table{"tunnel broker block", {
      {{"set", "tsp"}, "NAME", 1, 1, false, set_broker_tsp},
      {{"set", "tunnel", "server"}, "NAME", 1, 1, false, set_broker_server},
      {{"redirect", "broker"}, "ADDRESS", 1, 1, true, add_redirect_broker},
  }};
  static const StatementTable dataplane_table{"dataplane block", {
      {{"eal"}, "ARGUMENT...", 1, unlimited, true, add_eal_args},
      {{"port", "ipv4"}, "DEVICE", 1, 1, false, set_ipv4_port},
      {{"port", "ipv6"}, "DEVICE", 1, 1, false, set_ipv6_port},
      {{"workers"}, "COUNT", 1, 1, false, set_workers},
      {{"exception", "limit"}, "neighbor|tsp|other|tsp-source RATE [BURST]", 2, 3, true, set_exception_limit},
      {{"ipv4", "address"}, "IPV4-ADDRESS/LENGTH", 1, 1, false, set_dp_ipv4_address},
      {{"ipv4", "gateway"}, "IPV4-ADDRESS", 1, 1, false, set_dp_ipv4_gateway},
      {{"ipv6", "address"}, "IPV6-ADDRESS/LENGTH", 1, 1, false, set_dp_ipv6_address},
      {{"ipv6", "gateway"}, "IPV6-ADDRESS", 1, 1, false, set_dp_ipv6_gateway},
      {{"tap", "ipv4"}, "INTERFACE", 1, 1, false, set_ipv4_tap},
      {{"tap", "ipv6"}, "INTERFACE", 1, 1, false, set_ipv6_tap},
  }};
  switch (kind) {
    case BlockKind::Tsp: return tsp_table;
    case BlockKind::TunnelServer: return server_table;
    case BlockKind::TunnelBroker: return broker_table;
    case BlockKind::Dataplane: return dataplane_table;
    case BlockKind::None: break;
  }
  return top_level_statements();
}

std::string_view block_keyword(BlockKind kind) {
  switch (kind) {
    case BlockKind::Tsp: return "tsp";
    case BlockKind::TunnelServer: return "tunnel server";
    case BlockKind::TunnelBroker: return "tunnel broker";
    case BlockKind::Dataplane: return "dataplane";
    case BlockKind::None: break;
  }
  return "top level";
}

}  // namespace tsp::config
