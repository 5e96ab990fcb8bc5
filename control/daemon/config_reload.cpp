#include "control/daemon/config_reload.hpp"

#include <fmt/format.h>

#include <cctype>
#include <fstream>
#include <sstream>

namespace tsp::daemon {

namespace {

using config::Config;

std::string normalized(std::string_view line) {
  std::string out;
  for (char c : line) {
    const bool space = c == ' ' || c == '\t' || c == '\r';
    if (space) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string port_text(const std::optional<uint16_t>& port) { return port ? std::to_string(*port) : "none"; }

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : " ") + s;
  return out.empty() ? "none" : out;
}

std::string auth_text(const std::vector<config::AuthMechanism>& mechanisms) {
  std::vector<std::string> names;
  for (auto m : mechanisms) names.emplace_back(config::to_string(m));
  return join(names);
}

bool same_dataplane(const config::DataplaneSection& a, const config::DataplaneSection& b) {
  return a.eal_args == b.eal_args && a.ipv4_port == b.ipv4_port && a.ipv6_port == b.ipv6_port &&
         a.workers == b.workers && a.ipv4_address == b.ipv4_address && a.ipv4_prefix_len == b.ipv4_prefix_len &&
         a.ipv4_gateway == b.ipv4_gateway && a.ipv6_address == b.ipv6_address &&
         a.ipv6_prefix_len == b.ipv6_prefix_len && a.ipv6_gateway == b.ipv6_gateway && a.ipv4_tap == b.ipv4_tap &&
         a.ipv6_tap == b.ipv6_tap;  // the exception limits are reloadable
}

// Collects the first difference that needs a restart.
class RestartCheck {
 public:
  RestartCheck(const Config& next, std::string_view text) : next_(next), text_(text) {}

  // `block_line` 0: a top-level statement.
  void differ(bool changed, int block_line, std::string_view statement, const std::string& was,
              const std::string& now) {
    if (!changed || reason_) return;
    const int line = statement_line(text_, block_line, statement);
    reason_ = fmt::format("{}{}: '{}' changed ({} -> {}): this needs a restart", next_.file,
                          line > 0 ? ":" + std::to_string(line) : std::string(), statement, was, now);
  }
  const std::optional<std::string>& reason() const { return reason_; }

 private:
  const Config& next_;
  std::string_view text_;
  std::optional<std::string> reason_;
};

}  // namespace

int statement_line(std::string_view text, int block_line, std::string_view keyword) {
  const std::string want = normalized(keyword);
  int number = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++number;
    if (number <= block_line) continue;
    const std::string words = normalized(line);
    const bool indented = !line.empty() && (line[0] == ' ' || line[0] == '\t');
    if (words.empty() || words[0] == '!' || words[0] == '#') continue;
    if (block_line > 0 && !indented) break;  // the block ended
    if (block_line == 0 && indented) continue;
    if (words == want || words.starts_with(want + " ")) return number;
    if (end == text.size()) break;
  }
  return block_line;
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<std::string> restart_needed(const Config& running, const Config& next, std::string_view next_text) {
  RestartCheck check(next, next_text);
  const auto& t0 = running.tsp();
  const auto& t1 = next.tsp();
  check.differ(t0.address != t1.address, t1.line, "ip address", t0.address.to_string(), t1.address.to_string());
  check.differ(t0.udp_port != t1.udp_port, t1.line, "transport udp", port_text(t0.udp_port), port_text(t1.udp_port));
  check.differ(t0.tcp_port != t1.tcp_port, t1.line, "transport tcp", port_text(t0.tcp_port), port_text(t1.tcp_port));

  const auto& s0 = running.tunnel_server();
  const auto& s1 = next.tunnel_server();
  check.differ(s0.address != s1.address, s1.line, "ip address", s0.address.to_string(), s1.address.to_string());
  // Live tunnels carry the server's endpoint; the endpoint pool is where it lives.
  check.differ(s0.endpoint_pool != s1.endpoint_pool, s1.line, "ipv6 pool endpoints", s0.endpoint_pool,
               s1.endpoint_pool);
  check.differ(s0.ipv6_address != s1.ipv6_address, s1.line, "ipv6 address", s0.ipv6_address.to_string(),
               s1.ipv6_address.to_string());
  // The dataplane's workers were started with the tunnel MTU.
  check.differ(running.dataplane && s0.mtu != s1.mtu, s1.line, "mtu", std::to_string(s0.mtu),
               std::to_string(s1.mtu));

  const bool dp_changed = running.dataplane.has_value() != next.dataplane.has_value() ||
                          (running.dataplane && !same_dataplane(*running.dataplane, *next.dataplane));
  check.differ(dp_changed, 0, "dataplane", running.dataplane ? "a dataplane block" : "none",
               next.dataplane ? (dp_changed && running.dataplane ? "another dataplane block" : "a dataplane block")
                              : "none");
  check.differ(running.store.sqlite_path != next.store.sqlite_path, 0, "store sqlite", running.store.sqlite_path,
               next.store.sqlite_path);
  check.differ(running.max_tunnels != next.max_tunnels, 0, "limit tunnels", std::to_string(running.max_tunnels),
               std::to_string(next.max_tunnels));
  check.differ(running.admin.socket_path != next.admin.socket_path, 0, "admin socket", running.admin.socket_path,
               next.admin.socket_path);
  check.differ(running.admin.group != next.admin.group, 0, "admin group", running.admin.group.value_or("none"),
               next.admin.group.value_or("none"));
  auto listen = [](const Config& c) {
    return c.metrics ? c.metrics->address.to_string() + " " + std::to_string(c.metrics->port) : std::string("none");
  };
  check.differ(listen(running) != listen(next), 0, "metrics listen", listen(running), listen(next));
  return check.reason();
}

std::vector<std::string> reload_changes(const Config& running, const Config& next) {
  std::vector<std::string> out;
  auto note = [&](std::string_view what, const std::string& was, const std::string& now) {
    if (was != now) out.push_back(fmt::format("{}: {} -> {}", what, was, now));
  };
  for (const auto& p : next.pools) {
    const auto* old = running.find_pool(p.name);
    if (!old) out.push_back(fmt::format("pool {} added: {} /{}", p.name, p.range.to_string(), p.block_len));
    else if (old->range != p.range || old->block_len != p.block_len)
      out.push_back(fmt::format("pool {} changed: {} /{}", p.name, p.range.to_string(), p.block_len));
  }
  for (const auto& p : running.pools)
    if (!next.find_pool(p.name)) out.push_back(fmt::format("pool {} removed", p.name));
  const auto& t0 = running.tsp();
  const auto& t1 = next.tsp();
  note("authentication", auth_text(t0.auth), auth_text(t1.auth));
  note("realm", t0.realm, t1.realm);
  note("keepalive interval", std::to_string(t0.keepalive_interval), std::to_string(t1.keepalive_interval));
  note("keepalive missed", std::to_string(t0.keepalive_missed), std::to_string(t1.keepalive_missed));
  note("max sessions", std::to_string(t0.max_sessions), std::to_string(t1.max_sessions));
  note("max sessions per-address", std::to_string(t0.max_sessions_per_address),
       std::to_string(t1.max_sessions_per_address));
  note("session timeout", std::to_string(t0.session_timeout), std::to_string(t1.session_timeout));
  note("lockout failures", std::to_string(t0.lockout_failures), std::to_string(t1.lockout_failures));
  note("lockout window", std::to_string(t0.lockout_window), std::to_string(t1.lockout_window));
  note("lockout duration", std::to_string(t0.lockout_duration), std::to_string(t1.lockout_duration));
  note("lockout user-failures", std::to_string(t0.lockout_user_failures), std::to_string(t1.lockout_user_failures));
  note("lockout user-window", std::to_string(t0.lockout_user_window), std::to_string(t1.lockout_user_window));
  note("lockout save-interval", std::to_string(t0.lockout_save_interval), std::to_string(t1.lockout_save_interval));
  const auto& s0 = running.tunnel_server();
  const auto& s1 = next.tunnel_server();
  note("ipv6 pool prefix", join(s0.prefix_pools), join(s1.prefix_pools));
  note("ipv6 dns-server", s0.dns_server.to_string(), s1.dns_server.to_string());
  note("mtu", std::to_string(s0.mtu), std::to_string(s1.mtu));
  note("lifetime", std::to_string(s0.lifetime), std::to_string(s1.lifetime));
  note("quarantine", std::to_string(s0.quarantine), std::to_string(s1.quarantine));
  note("redirect broker", join(running.broker.redirect_brokers), join(next.broker.redirect_brokers));
  note("limit anonymous per-address", std::to_string(running.max_anonymous_per_address),
       std::to_string(next.max_anonymous_per_address));
  note("history keep", std::to_string(running.history_keep_days), std::to_string(next.history_keep_days));
  note("log level", running.log_level, next.log_level);
  auto target = [](const Config& c) { return c.log_target.syslog ? "syslog " + c.log_target.facility : "stderr"; };
  note("log", target(running), target(next));
  auto per_tunnel = [](const Config& c) { return c.metrics && c.metrics->per_tunnel ? "on" : "off"; };
  note("metrics per-tunnel", per_tunnel(running), per_tunnel(next));
  auto delegation = [](const Config& c) {
    if (!c.dns_delegation) return std::string("off");
    const auto& d = *c.dns_delegation;
    return "file " + d.file + " ttl " + std::to_string(d.ttl) +
           (d.reload_command.empty() ? std::string() : " reload " + join(d.reload_command));
  };
  note("dns delegation", delegation(running), delegation(next));
  if (running.dataplane && next.dataplane) {
    note("exception limits", dp::exception_limits_text(running.dataplane->exception_limits),
         dp::exception_limits_text(next.dataplane->exception_limits));
  }
  return out;
}

}  // namespace tsp::daemon
