#include "tools/tspc/settings/config_values.hpp"

#include <cctype>
#include <charconv>
#include <cstdio>

namespace tsp::tspc::detail {
namespace {

std::string join(std::initializer_list<std::string_view> items) {
  std::string out;
  for (auto item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7f; }

}  // namespace

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t");
  return s.substr(first, last - first + 1);
}

std::string quoted(std::string_view value) {
  constexpr size_t kMax = 60;
  std::string out = "'";
  for (size_t i = 0; i < value.size() && i < kMax; ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (is_control(c) || c >= 0x80) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (value.size() > kMax) out += "...";
  return out + "'";
}

size_t parse_choice(std::string_view key, std::string_view value,
                    std::initializer_list<std::string_view> allowed) {
  const std::string wanted = lower(value);
  size_t index = 0;
  for (auto item : allowed) {
    if (lower(item) == wanted) return index;
    ++index;
  }
  throw BadValue(std::string(key) + ": " + quoted(value) + " is not one of " + join(allowed));
}

bool parse_yes_no(std::string_view key, std::string_view value) {
  return parse_choice(key, value, {"yes", "no"}) == 0;
}

unsigned parse_unsigned(std::string_view key, std::string_view value, unsigned lo, unsigned hi) {
  unsigned number = 0;
  const auto* end = value.data() + value.size();
  const auto [ptr, ec] = std::from_chars(value.data(), end, number);
  if (value.empty() || ec != std::errc{} || ptr != end || number < lo || number > hi)
    throw BadValue(std::string(key) + ": " + quoted(value) + " is not a number in " +
                   std::to_string(lo) + ".." + std::to_string(hi));
  return number;
}

int parse_log_level(std::string_view key, std::string_view value) {
  return static_cast<int>(parse_unsigned(key, value, 0, 3));
}

std::optional<Ipv4Addr> parse_auto_ipv4(std::string_view key, std::string_view value) {
  if (value.empty() || lower(value) == "auto") return std::nullopt;
  if (auto addr = Ipv4Addr::parse(value)) return addr;
  throw BadValue(std::string(key) + ": " + quoted(value) + " is not 'auto' or an IPv4 address");
}

Ipv4Addr parse_ipv4(std::string_view key, std::string_view value) {
  if (auto addr = Ipv4Addr::parse(value)) return *addr;
  throw BadValue(std::string(key) + ": " + quoted(value) + " is not an IPv4 address");
}

std::string parse_interface_name(std::string_view key, std::string_view value) {
  constexpr size_t kMaxName = 15;  // IFNAMSIZ - 1
  bool ok = !value.empty() && value.size() <= kMaxName && value != "." && value != "..";
  for (auto c : value)
    if (c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c)) ||
        is_control(static_cast<unsigned char>(c)) || static_cast<unsigned char>(c) >= 0x80)
      ok = false;
  if (!ok)
    throw BadValue(std::string(key) + ": " + quoted(value) +
                   " is not an interface name (1..15 characters, no '/', ':' or spaces)");
  return std::string(value);
}

bool is_hostname(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  size_t label = 0;
  for (auto c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
    if (++label > 63) return false;
  }
  // "300.1.1.1" is a broken address, not a name.
  if (name.find_first_not_of("0123456789.") == std::string_view::npos) return false;
  return true;  // a trailing dot (absolute name) is fine
}

ServerAddress parse_server_address(std::string_view value) {
  const auto bad = [&](const std::string& why) {
    return BadValue("server: " + quoted(value) + " " + why +
                    " (expected host, host:port, a.b.c.d[:port] or [ipv6][:port])");
  };
  ServerAddress out;
  out.text = std::string(value);
  std::string_view host = value, port;
  if (value.starts_with('[')) {
    const auto close = value.find(']');
    if (close == std::string_view::npos) throw bad("has no closing ']'");
    host = value.substr(1, close - 1);
    const auto rest = value.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') throw bad("has text after ']'");
      port = rest.substr(1);
      if (port.empty()) throw bad("has an empty port");
    }
    if (!Ipv6Addr::parse(host)) throw bad("is not an IPv6 address in brackets");
    out.is_ipv6 = true;
  } else if (value.find(':') != value.rfind(':')) {
    if (!Ipv6Addr::parse(value)) throw bad("is not a valid address");
    out.is_ipv6 = true;  // bare IPv6 literal: no port possible
  } else if (const auto colon = value.find(':'); colon != std::string_view::npos) {
    host = value.substr(0, colon);
    port = value.substr(colon + 1);
    if (port.empty()) throw bad("has an empty port");
  }
  if (!out.is_ipv6 && !Ipv4Addr::parse(host) && !is_hostname(host))
    throw bad("is not a host name or address");
  if (!port.empty()) {
    try {
      out.port = static_cast<uint16_t>(parse_unsigned("server port", port, 1, 65535));
    } catch (const BadValue&) {
      throw bad("has a port that is not 1..65535");
    }
  }
  out.host = std::string(host);
  return out;
}

std::string parse_template_name(std::string_view value) {
  bool ok = !value.empty() && value.size() <= 64 && value[0] != '.';
  for (auto c : value)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') ok = false;
  if (!ok)
    throw BadValue("template: " + quoted(value) +
                   " is not a script name (letters, digits, '_', '-', '.'; e.g. linux, checktunnel)");
  return std::string(value);
}

}  // namespace tsp::tspc::detail
