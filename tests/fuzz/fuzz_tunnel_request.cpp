// Fuzz target for the TSP tunnel XML parsers: both see every input (the broker parses requests
// off the network, the client parses offers), and every offer that parses must survive a
// write/parse round trip unchanged.
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string_view>
#include <variant>

#include "control/xml/tunnel_xml.hpp"

namespace {

using namespace tsp::xml;

void check_offer_round_trip(const ParsedOffer& p) {
  if (!p.brokers.empty() || !p.server_v4 || !p.server_v6 || !p.client_v4 || !p.client_v6) return;
  TunnelOffer o;
  o.type = p.type;
  o.lifetime = p.lifetime.value_or(o.lifetime);
  o.server_v4 = *p.server_v4;
  o.server_v6 = *p.server_v6;
  o.client_v4 = *p.client_v4;
  o.client_v6 = *p.client_v6;
  o.client_dn = p.client_dn;
  o.dns_server = p.dns_server.value_or(o.dns_server);
  o.prefix = p.prefix;
  o.keepalive_interval = p.keepalive_interval.value_or(o.keepalive_interval);
  o.keepalive_address = p.keepalive_address.value_or(o.keepalive_address);
  std::string xml;
  try {
    xml = write_offer_xml(o);
  } catch (const std::invalid_argument&) {
    return;  // type or dn text that gogoc could not read: refusing it is the right answer
  }
  const auto again = parse_offer_xml(xml);
  const auto* q = std::get_if<ParsedOffer>(&again);
  if (!q || q->type != o.type || q->server_v4 != p.server_v4 || q->server_v6 != p.server_v6 ||
      q->client_v4 != p.client_v4 || q->client_v6 != p.client_v6 || q->client_dn != p.client_dn ||
      q->prefix != p.prefix)
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)parse_tunnel_request(input);
  const auto offer = parse_offer_xml(input);
  if (const auto* p = std::get_if<ParsedOffer>(&offer)) check_offer_round_trip(*p);
  return 0;
}
