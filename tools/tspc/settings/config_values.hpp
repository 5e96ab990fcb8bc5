// Value parsers for tspc.conf keys and tspc's command line. Each one checks one value and
// throws BadValue with a reason that names the key and what is allowed; the caller adds
// "file:line: " (config) or turns it into a usage error (command line).
#pragma once

#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "shared/net_types.hpp"
#include "tools/tspc/settings/tspc_config.hpp"

namespace tsp::tspc::detail {

struct BadValue : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string lower(std::string_view text);
// Without the spaces and tabs around it.
std::string_view trim(std::string_view s);
// "'value'" with control bytes shown as \xNN, cut at 60 characters (error messages only).
std::string quoted(std::string_view value);

// One of `allowed` (compared case-insensitively); returns its index.
size_t parse_choice(std::string_view key, std::string_view value,
                    std::initializer_list<std::string_view> allowed);
bool parse_yes_no(std::string_view key, std::string_view value);
unsigned parse_unsigned(std::string_view key, std::string_view value, unsigned lo, unsigned hi);
// 0..3, the per-destination log level of gogoc.
int parse_log_level(std::string_view key, std::string_view value);
// An IPv4 literal, or nullopt for "auto" (client_v4) / "" (if_source).
std::optional<Ipv4Addr> parse_auto_ipv4(std::string_view key, std::string_view value);
Ipv4Addr parse_ipv4(std::string_view key, std::string_view value);
// Linux interface name: 1..15 bytes, no '/', ':' or whitespace, not "." or "..".
std::string parse_interface_name(std::string_view key, std::string_view value);
bool is_hostname(std::string_view name);
// host, host:port, a.b.c.d, a.b.c.d:port, [v6], [v6]:port, or a bare IPv6 literal.
ServerAddress parse_server_address(std::string_view value);
// A name usable as <tsp_dir>/template/<name>.sh: letters, digits, '_', '-', '.'; no '/'.
std::string parse_template_name(std::string_view value);

}  // namespace tsp::tspc::detail
