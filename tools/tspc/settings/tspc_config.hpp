// tspc.conf: the classic tspc / gogoc 1.2 configuration file, read into one checked struct.
//
// Format: one `name = value` (or `name=value`) per line, `#` starts a comment line, blank
// lines ignored, spaces/tabs around name and value trimmed, CRLF tolerated. Comments are
// whole lines only (a value such as a password may contain '#'). An empty value means "the
// default" for every key (classic files carry `passwd=` and `if_prefix=` lines).
//
// Two steps, so that command-line overrides can fix what the file leaves open:
//   parse_tspc_config()/load_tspc_config(): syntax, every key's own value, unknown and
//     repeated keys, and the required keys `server` and `template`.
//   validate(): the rules between keys (password needed, proxy_client limits, interfaces
//     named for the tunnel mode, if_prefix for a router, keepalive interval); run it after
//     apply_overrides() (command_line.hpp), or use load_with_overrides() which does all three.
//
// gogoc 1.2 keys that tspc reads and checks but does not act on ("accepted, no effect"):
//   client_v6, if_tunnel_v4v6, log_console, dslite_server, dslite_client,
//   haccess_proxy_enabled, haccess_web_enabled, haccess_document_root.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "shared/net_types.hpp"

namespace tsp::tspc {

enum class AuthMethod { Any, DigestMd5, Plain, Anonymous, ScramSha256 };
enum class TunnelMode { V6V4, V6UdpV4, V6AnyV4, V4V6 };
enum class HostType { Host, Router };

inline constexpr uint16_t kTspPort = 3653;

struct ServerAddress {
  std::string host;        // name or address literal, IPv6 without brackets
  uint16_t port = kTspPort;
  std::string text;        // as written in the file (DIGEST-MD5 digest-uri uses it)
  bool is_ipv6 = false;    // written as [v6] or a bare IPv6 literal
};

struct TspcConfig {
  std::string file;                     // path it was read from ("" when built in code)
  std::string tsp_version = "2.0.2";    // highest version tried first (protocol §1.6)
  std::string tsp_dir = "/usr/local/etc/tsp";  // templates in tsp_dir + "/template"; alias gogoc_dir
  AuthMethod auth_method = AuthMethod::Any;
  std::optional<Ipv4Addr> client_v4;    // nullopt = auto
  std::optional<Ipv4Addr> if_source;    // local IPv4 to send from; nullopt = kernel's choice
  std::string userid, passwd;           // userid <= 253, passwd <= 128 characters
  std::string template_name;            // key "template": runs <tsp_dir>/template/<name>.sh
  ServerAddress server;
  unsigned retry_delay = 30, retry_delay_max = 300;  // seconds, 0..3600
  bool auto_retry_connect = true;
  TunnelMode tunnel_mode = TunnelMode::V6AnyV4;
  std::string if_tunnel_v6v4 = "sit1", if_tunnel_v6udpv4 = "tun";
  std::string if_tunnel_v4v6 = "sit0";  // accepted, no effect (no v4v6 on Linux)
  std::optional<Ipv6Addr> client_v6;    // accepted, no effect
  bool proxy_client = false;
  bool keepalive = true;
  unsigned keepalive_interval = 30;     // seconds, 0..3600; > 0 when keepalive=yes
  std::string syslog_facility = "USER"; // USER, LOCAL0..LOCAL7
  int syslog_level = 0;                 // 0 = off, else 1..3 (ERR/WARNING=1, NOTICE/INFO=2, DEBUG=3)
  HostType host_type = HostType::Host;
  unsigned prefixlen = 64;              // 0: broker's choice (no length attribute sent)
  std::string if_prefix;                // LAN interface that gets the prefix (router)
  std::vector<std::string> dns_server;  // names from the ':'-separated list
  std::string broker_list = "tsp-broker-list.txt", last_server = "tsp-last-server.txt";
  bool always_use_same_server = false;
  // Log levels per destination, 0 (off) .. 3; see client_log.hpp for how -v combines.
  int log_stderr = 1, log_file = 2, log_syslog = 0, log_console = 0;
  std::string log_filename = "tspc.log";
  bool log_rotation = true, log_rotation_delete = false;
  unsigned log_rotation_size = 32;      // KiB: 16, 32, 128 or 1024
  // Accepted, no effect:
  Ipv4Addr dslite_server{0xC0000001}, dslite_client{0xC0000002};
  bool haccess_proxy_enabled = false, haccess_web_enabled = false;
  std::string haccess_document_root;
};

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  // what() = "<file>:<line>: <reason>", or "<file>: <reason>" for line 0 (the whole file).
  ConfigError(const std::string& file, int line, const std::string& reason);
};

// Throws ConfigError. Does not run validate() (see the top of this file).
TspcConfig parse_tspc_config(std::string_view text, const std::string& file_name);
TspcConfig load_tspc_config(const std::string& path);
// Cross-key rules plus the per-key checks of the values a command line can override.
void validate(const TspcConfig& cfg);

// True when the client authenticates as ANONYMOUS: auth_method=anonymous, or auth_method=any
// with an empty userid or userid "anonymous" (the classic tspc habit for temporary tunnels).
bool uses_anonymous(const TspcConfig& cfg);

std::string_view to_string(TunnelMode);
std::string_view to_string(HostType);
std::string_view to_string(AuthMethod);

}  // namespace tsp::tspc
