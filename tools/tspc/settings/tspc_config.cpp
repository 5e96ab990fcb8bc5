// Reading tspc.conf: lines, comments, unknown/repeated keys, required keys. The value rules
// live in config_keys.cpp, the rules between keys in config_validate.cpp.
#include "tools/tspc/settings/tspc_config.hpp"

#include <fstream>
#include <map>
#include <sstream>

#include "tools/tspc/settings/config_keys.hpp"
#include "tools/tspc/settings/config_values.hpp"

namespace tsp::tspc {
namespace {

constexpr size_t kMaxFileSize = 1 << 20;  // a tspc.conf is a few KiB; refuse anything huge

bool valid_key_name(std::string_view name) {
  if (name.empty()) return false;
  for (auto c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

}  // namespace

ConfigError::ConfigError(const std::string& file, int line, const std::string& reason)
    : std::runtime_error(line > 0 ? file + ":" + std::to_string(line) + ": " + reason
                                  : file + ": " + reason) {}

TspcConfig parse_tspc_config(std::string_view text, const std::string& file_name) {
  TspcConfig cfg;
  cfg.file = file_name;
  if (text.size() > kMaxFileSize) throw ConfigError(file_name, 0, "file larger than 1 MiB");
  std::map<std::string_view, int> first_line;  // canonical key -> line where it was set
  int line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const auto eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    const auto error = [&](const std::string& reason) { return ConfigError(file_name, line_no, reason); };
    for (auto c : line)
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
        throw error("control character in line");
    line = detail::trim(line);
    if (line.empty() || line.front() == '#') continue;

    const auto eq = line.find('=');
    if (eq == std::string_view::npos) throw error("expected 'name = value', got " + detail::quoted(line));
    const auto name = detail::trim(line.substr(0, eq));
    const auto value = detail::trim(line.substr(eq + 1));
    if (!valid_key_name(name)) throw error("bad key name " + detail::quoted(name));
    const auto* key = detail::find_config_key(name);
    if (!key) throw error("unknown key '" + std::string(name) + "'");
    const auto canonical = key->canonical.empty() ? key->name : key->canonical;
    if (const auto [it, fresh] = first_line.emplace(canonical, line_no); !fresh)
      throw error("repeated key '" + std::string(name) + "' (" + std::string(canonical) +
                  " already set at line " + std::to_string(it->second) + ")");
    if (value.empty()) {
      if (name == "server" || name == "template")
        throw error(std::string(name) + ": a value is required");
      continue;  // empty value = default
    }
    try {
      key->set(cfg, value);
    } catch (const detail::BadValue& e) {
      throw error(e.what());
    }
  }
  if (cfg.server.host.empty()) throw ConfigError(file_name, 0, "required key 'server' is missing");
  if (cfg.template_name.empty()) throw ConfigError(file_name, 0, "required key 'template' is missing");
  return cfg;
}

TspcConfig load_tspc_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path, 0, "cannot open the configuration file");
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) throw ConfigError(path, 0, "cannot read the configuration file");
  return parse_tspc_config(content.str(), path);
}

bool uses_anonymous(const TspcConfig& cfg) {
  if (cfg.auth_method == AuthMethod::Anonymous) return true;
  return cfg.auth_method == AuthMethod::Any &&
         (cfg.userid.empty() || detail::lower(cfg.userid) == "anonymous");
}

std::string_view to_string(TunnelMode mode) {
  switch (mode) {
    case TunnelMode::V6V4: return "v6v4";
    case TunnelMode::V6UdpV4: return "v6udpv4";
    case TunnelMode::V6AnyV4: return "v6anyv4";
    case TunnelMode::V4V6: return "v4v6";
  }
  return "?";
}

std::string_view to_string(HostType type) {
  return type == HostType::Router ? "router" : "host";
}

std::string_view to_string(AuthMethod method) {
  switch (method) {
    case AuthMethod::Any: return "any";
    case AuthMethod::DigestMd5: return "digest-md5";
    case AuthMethod::Plain: return "plain";
    case AuthMethod::Anonymous: return "anonymous";
    case AuthMethod::ScramSha256: return "scram-sha-256";
  }
  return "?";
}

}  // namespace tsp::tspc
