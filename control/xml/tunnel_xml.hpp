// The XML bodies of TSP tunnel messages (RFC 5572; byte formats of tsp-protocol.md §3 and §6):
// the broker parses requests and writes offers/redirects; our client writes requests and
// parses offers/redirects. Parsing is hardened (size, markup and depth limits, no DTDs, only
// the five predefined entities) because the input comes straight off the network.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "shared/net_types.hpp"

namespace tsp::xml {

// Bodies bigger than this are refused: a gogoc reply buffer is 4096 bytes and a request is
// about 220, so anything near the limit is not a real client.
inline constexpr size_t kMaxXmlBytes = 8192;
// gogoc accepts at most 50 brokers in a redirect.
inline constexpr size_t kMaxBrokers = 50;
// At most this many <router><dns_server><address type="dn"> names in a request.
inline constexpr size_t kMaxDnsNames = 8;

enum class TunnelAction { Create, Accept, Reject, Delete, Info };

struct TunnelRequest {
  TunnelAction action = TunnelAction::Create;
  std::string type;                        // as sent, lower-cased; empty if absent (validated by the caller)
  bool proxy = false;                      // proxy="yes"
  std::optional<std::string> client_ipv4;  // text of <client><address type="ipv4">, trimmed
  std::optional<std::string> client_ipv6;  // text of <client><address type="ipv6">, trimmed
  std::optional<unsigned> keepalive_interval;  // <client><keepalive interval="N">
  bool router = false;                     // <client><router> present
  std::optional<unsigned> prefix_length;   // <router><prefix length="N"/> (absent => nullopt)
  std::vector<std::string> dns_names;      // <router><dns_server><address type="dn">, at most kMaxDnsNames
};

// Parses the XML body of a client message (what follows "Content-length: N\r\n"). Returns the
// request or an error text that names what is wrong. Only `create` requires a type.
std::variant<TunnelRequest, std::string> parse_tunnel_request(std::string_view xml);

struct TunnelOffer {
  std::string type;  // "v6v4" | "v6udpv4"
  uint32_t lifetime = 604800;
  Ipv4Addr server_v4;
  Ipv6Addr server_v6;
  Ipv4Addr client_v4;
  Ipv6Addr client_v6;
  std::optional<std::string> client_dn;  // <client><address type="dn"> (router with DNS names)
  Ipv6Addr dns_server;                   // always written: gogoc crashes without it (§3.3 rule 2)
  std::optional<Ipv6Prefix> prefix;      // <client><router><prefix length="L">EXPANDED</prefix></router>
  uint32_t keepalive_interval = 30;      // always written; 0 tells the client not to ping
  Ipv6Addr keepalive_address;
};

// The XML part of an offer as in §3.5 (a): CRLF line ends, one space of indentation per level,
// fully expanded addresses, double-quoted attributes, no XML declaration, no whitespace inside
// text nodes, and always the same attribute set on <tunnel>. Ends with "</tunnel>\r\n".
// Throws std::invalid_argument if `type` or `client_dn` holds characters gogoc cannot read
// (its parser knows no entities, so they cannot be escaped).
std::string write_offer_xml(const TunnelOffer& offer);

// The redirect body of §6. Each broker's address type is detected from its text (IPv4
// literal, IPv6 literal, else dn). Throws std::invalid_argument for an empty list, more than
// kMaxBrokers entries, or an entry that is not a plain address or host name.
std::string write_redirect_xml(const std::vector<std::string>& brokers, uint32_t lifetime);

// What our client puts into a create request (§3.2).
struct RequestSpec {
  std::string type;  // v6v4 | v6udpv4 | v6anyv4 | v4v6
  bool proxy = false;
  std::string client_ipv4;                     // the declared IPv4 endpoint (not for v4v6)
  std::optional<unsigned> keepalive_interval;  // nullopt: no <keepalive> element
  bool router = false;
  unsigned prefix_length = 64;  // 0 means the gogoc default: 48 (24 for v4v6)
  std::vector<std::string> dns_names;
  std::string client_ipv6;  // v4v6 only: the declared IPv6 endpoint
};

// Builds the request byte for byte as gogoc 1.2 does (single-space indentation with its odd
// extra indentation of the keepalive and dns addresses, CRLF, trailing CRLF). Throws
// std::invalid_argument for text that cannot be written safely or a missing address.
std::string write_request_xml(const RequestSpec& spec);

struct ParsedOffer {
  std::string type;
  std::optional<uint32_t> lifetime;
  std::optional<Ipv4Addr> server_v4, client_v4;
  std::optional<Ipv6Addr> server_v6, client_v6, dns_server, keepalive_address;
  std::optional<std::string> client_dn;
  std::optional<Ipv6Prefix> prefix;
  std::optional<uint32_t> keepalive_interval;
  std::vector<std::string> brokers;  // non-empty only for a redirect, in document order
};

// Parses an offer or a redirect (the XML that follows the status line). An offer must carry
// the client and server IPv4 and IPv6 addresses (§3.3 rule 1); a redirect at least one broker.
std::variant<ParsedOffer, std::string> parse_offer_xml(std::string_view xml);

}  // namespace tsp::xml
