#include "config/config_values.hpp"

#include <algorithm>
#include <cctype>

namespace tsp::config {

std::string quote(std::string_view text) {
  constexpr size_t max_shown = 64;
  if (text.size() > max_shown) return "'" + std::string(text.substr(0, max_shown)) + "...'";
  return "'" + std::string(text) + "'";
}

std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool keyword_equals(std::string_view token, std::string_view keyword) {
  return token.size() == keyword.size() &&
         std::equal(token.begin(), token.end(), keyword.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == b;
         });
}

static std::string range_text(uint64_t min, uint64_t max) {
  return std::to_string(min) + ".." + std::to_string(max);
}

uint64_t parse_number(std::string_view text, uint64_t min, uint64_t max, std::string_view what) {
  const bool all_digits = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return c >= '0' && c <= '9';
  });
  if (!all_digits) {
    throw ValueError(std::string(what) + " must be a whole number in " + range_text(min, max) +
                     ", not " + quote(text));
  }
  uint64_t value = 0;
  bool too_big = false;
  for (char c : text) {
    const auto digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) {
      too_big = true;
      break;
    }
    value = value * 10 + digit;
  }
  if (too_big || value < min || value > max) {
    throw ValueError(std::string(what) + " " + quote(text) + " is out of range (" +
                     range_text(min, max) + ")");
  }
  return value;
}

uint16_t parse_port(std::string_view text) {
  return static_cast<uint16_t>(parse_number(text, 1, 65535, "port"));
}

Ipv4Addr parse_unicast_ipv4(std::string_view text) {
  const auto addr = Ipv4Addr::parse(text);
  if (!addr) throw ValueError(quote(text) + " is not an IPv4 address (expected e.g. 192.0.2.1)");
  const bool multicast = (addr->value >> 28) == 0xE;
  if (addr->value == 0 || addr->value == 0xFFFFFFFFu || multicast) {
    throw ValueError(addr->to_string() + " is not a unicast IPv4 address: use the address "
                     "clients reach this broker at");
  }
  return *addr;
}

Ipv6Addr parse_unicast_ipv6(std::string_view text) {
  const auto addr = Ipv6Addr::parse(text);
  if (!addr) throw ValueError(quote(text) + " is not an IPv6 address (expected e.g. 2001:db8::1)");
  if (addr->is_unspecified() || addr->bytes[0] == 0xFF) {
    throw ValueError(addr->to_string() + " is not a unicast IPv6 address");
  }
  return *addr;
}

Ipv6Prefix parse_ipv6_prefix(std::string_view text) {
  if (auto prefix = Ipv6Prefix::parse(text)) return *prefix;
  const std::string expected = " (expected ADDRESS/LENGTH, e.g. 2001:db8:f100::/40)";
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    throw ValueError(quote(text) + " is not an IPv6 prefix: the /LENGTH is missing" + expected);
  }
  const auto addr = Ipv6Addr::parse(text.substr(0, slash));
  if (!addr) throw ValueError(quote(text) + " is not an IPv6 prefix" + expected);
  const auto len = static_cast<unsigned>(parse_number(text.substr(slash + 1), 0, 128, "prefix length"));
  const Ipv6Prefix meant{addr->masked(len), static_cast<uint8_t>(len)};
  if (meant.addr == *addr) throw ValueError(quote(text) + " is not an IPv6 prefix" + expected);
  // Host bits are what is wrong: say which prefix was probably meant.
  throw ValueError("prefix " + quote(text) + " has host bits set (did you mean " +
                   meant.to_string() + "?)");
}

std::string parse_name(std::string_view text, std::string_view what) {
  constexpr size_t max_len = 64;
  const bool allowed = std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
  if (!allowed) {
    throw ValueError(std::string(what) + " " + quote(text) +
                     " may only contain letters, digits, '_', '-' and '.'");
  }
  if (text.size() > max_len) {
    throw ValueError(std::string(what) + " " + quote(text) + " is longer than " +
                     std::to_string(max_len) + " characters");
  }
  return std::string(text);
}

bool is_dns_name(std::string_view text) {
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);  // fully qualified form
  if (text.empty() || text.size() > 253) return false;
  std::string_view last_label;
  while (!text.empty()) {
    const size_t dot = text.find('.');
    const std::string_view label = text.substr(0, dot);
    text.remove_prefix(dot == std::string_view::npos ? text.size() : dot + 1);
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
    last_label = label;
    if (dot != std::string_view::npos && text.empty()) return false;  // "a..b" or "a.."
  }
  // An all-numeric top label is a mistyped IPv4 address, not a name (RFC 1123 §2.1).
  return !std::all_of(last_label.begin(), last_label.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string parse_host(std::string_view text, std::string_view what) {
  if (Ipv4Addr::parse(text) || Ipv6Addr::parse(text) || is_dns_name(text)) return std::string(text);
  throw ValueError(std::string(what) + " " + quote(text) +
                   " is not an IPv4 address, an IPv6 address or a DNS name");
}

}  // namespace tsp::config
