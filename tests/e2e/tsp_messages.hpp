// TSP messages byte for byte as gogoc 1.2 writes them (tsp-protocol.md §1.6, §2, §3.2, §3.4),
// and readers for what the broker answers (§3.1 framing, §3.3 offers, §6 redirects).
// Written independently of control/ so that the tests do not share the daemon's mistakes.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace tsp::e2e {

inline constexpr std::string_view kCapabilityAll =
    "CAPABILITY TUNNEL=V6V4 TUNNEL=V6UDPV4 AUTH=SCRAM-SHA-256 AUTH=DIGEST-MD5 AUTH=PLAIN AUTH=ANONYMOUS\r\n";
inline constexpr std::string_view kSuccess = "200 Success\r\n";
inline constexpr std::string_view kAuthFailed = "300 Authentication failed\r\n";
inline constexpr std::string_view kUnsupportedVersion = "302 Unsupported client version\r\n";
inline constexpr std::string_view kEchoRequest = "ECHO REQUEST";  // 12 bytes, no CRLF (§6)
inline constexpr std::string_view kAccept =
    "Content-length: 35\r\n<tunnel action=\"accept\"></tunnel>\r\n";

// "VERSION=2.0.2\r\n"
std::string version_line(std::string_view version);
// "AUTHENTICATE ANONYMOUS\r\n\0": gogoc sends the C string terminator too.
std::string authenticate_line(std::string_view mechanism);
// SASL PLAIN as gogoc sends it: "\0user\0password\r\n" (empty authzid).
std::string plain_blob(std::string_view user, std::string_view password);

// What a gogoc configuration puts into a create request.
struct TunnelRequestSpec {
  std::string type = "v6anyv4";
  std::string client_ipv4 = "127.0.0.1";
  std::string client_ipv6 = "2001:db8:1::10";  // only a v4v6 request declares an IPv6 endpoint
  bool proxy = false;
  std::optional<unsigned> keepalive_interval = 30;
  std::optional<unsigned> router_prefix_length;  // set: host_type=router
  std::vector<std::string> dns_names;            // router only
};
// The XML of tspBuildCreateRequest(), single-space indentation and CRLF line ends.
std::string request_xml(const TunnelRequestSpec& spec);
// "Content-length: N\r\n" + body, N = body size (client to server, §3.1).
std::string content_length_frame(std::string_view body);
// The whole create message: content_length_frame(request_xml(spec)).
std::string create_request(const TunnelRequestSpec& spec);

// A server reply "Content-length: N\r\n<status line>\r\n<xml>" where N counts everything
// after the first line.
struct FramedReply {
  size_t declared_length = 0;
  int status = 0;           // atoi() of the status line, as gogoc reads it
  std::string status_line;  // with its CRLF
  std::string xml;          // what follows the status line
};
// Error text when the reply is not framed exactly so (also when N is wrong).
std::variant<FramedReply, std::string> parse_framed_reply(std::string_view payload);
// The leading decimal digits of a line ("302 Unsupported..." -> 302), -1 if none.
int leading_status_code(std::string_view line);

// The fields of an offer or redirect body, as text. A missing element leaves its field empty.
struct OfferFields {
  std::string action, type, lifetime;
  std::string server_ipv4, server_ipv6;
  std::string client_ipv4, client_ipv6;
  std::string dns_server_ipv6;
  std::string keepalive_interval, keepalive_address;
  std::string prefix_length, prefix;  // <client><router><prefix length="L">TEXT</prefix>
  std::vector<std::pair<std::string, std::string>> brokers;  // (type, address)
};
// Reads the element tree gogoc understands (§3.3), tolerant of indentation and order.
// Error text when the XML is not well formed enough to read (unbalanced tags, no <tunnel>).
std::variant<OfferFields, std::string> parse_offer(std::string_view xml);

// The offer layout of tsp-protocol.md §3.5 (a), for byte-exact comparison.
struct ExpectedHostOffer {
  std::string type;  // v6v4 | v6udpv4
  std::string server_ipv4 = "127.0.0.1";
  std::string server_ipv6 = "2001:0db8:f001:0001:0000:0000:0000:0001";
  std::string client_ipv4 = "127.0.0.1";
  std::string client_ipv6;
  std::string dns_server_ipv6 = "2001:0db8:0000:0000:0000:0000:0000:0053";
  unsigned keepalive_interval = 30;
  unsigned lifetime = 604800;
};
// "<tunnel action="info" ...>\r\n ... </tunnel>\r\n"
std::string expected_host_offer_xml(const ExpectedHostOffer& offer);
// The whole reply payload: "Content-length: M\r\n200 Success\r\n" + expected_host_offer_xml().
std::string expected_host_offer_reply(const ExpectedHostOffer& offer);

// The bytes with CR, LF, NUL and other control bytes escaped, for failure messages.
std::string printable(std::string_view bytes, size_t max_bytes = 2000);

// Eight groups of four lower-case hex digits (what gogoc needs for prefixes, §3.3 rule 6).
bool is_expanded_ipv6(std::string_view text);

}  // namespace tsp::e2e
