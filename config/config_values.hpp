// Checked conversions of one statement argument. They throw ValueError with a reason an
// admin can act on; the parser adds the file and line.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "shared/net_types.hpp"

namespace tsp::config {

class ValueError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// 'text' in single quotes, cut short if very long (a reason must stay readable).
std::string quote(std::string_view text);
std::string to_lower(std::string_view text);
// Keywords are case-insensitive; `keyword` must be lowercase.
bool keyword_equals(std::string_view token, std::string_view keyword);

// A decimal number in [min, max]; `what` names it in messages ("keepalive interval").
uint64_t parse_number(std::string_view text, uint64_t min, uint64_t max, std::string_view what);
uint16_t parse_port(std::string_view text);
// A unicast IPv4 address: not 0.0.0.0, broadcast or multicast.
Ipv4Addr parse_unicast_ipv4(std::string_view text);
// A unicast IPv6 address: not ::, not multicast.
Ipv6Addr parse_unicast_ipv6(std::string_view text);
// "ADDRESS/LENGTH" with no host bits set (the message suggests the masked prefix).
Ipv6Prefix parse_ipv6_prefix(std::string_view text);
// Block names (pools, tsp, tunnel server, tunnel broker): letters, digits, '_', '-', '.'.
std::string parse_name(std::string_view text, std::string_view what);
// A host name as DNS allows it (RFC 1123 labels, not all-numeric at the top).
bool is_dns_name(std::string_view text);
// An IPv4 address, IPv6 address or DNS name, returned as written.
std::string parse_host(std::string_view text, std::string_view what);

}  // namespace tsp::config
