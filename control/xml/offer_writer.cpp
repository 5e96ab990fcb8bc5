// write_offer_xml and write_redirect_xml: what the broker answers to a create request.
// gogoc's homemade parser takes text between tags verbatim and keeps <tunnel> attributes in a
// table that is never cleared (§3.3), hence no whitespace in text, fully expanded addresses
// and one fixed attribute set on <tunnel>.
#include <stdexcept>

#include "control/xml/tunnel_xml.hpp"
#include "control/xml/xml_text.hpp"

namespace tsp::xml {

using namespace detail;

namespace {

std::string tunnel_info_line(std::string_view type, uint32_t lifetime) {
  return "<tunnel action=\"info\" type=\"" + std::string(type) + "\" lifetime=\"" + std::to_string(lifetime) + "\">";
}

void require_plain(std::string_view text, std::string_view what) {
  if (!is_plain_xml_token(text))
    throw std::invalid_argument(std::string(what) + " '" + std::string(text) +
                                "' is empty, too long or holds characters that cannot be written");
}

}  // namespace

std::string write_offer_xml(const TunnelOffer& offer) {
  require_plain(offer.type, "offer type");
  if (offer.client_dn) require_plain(*offer.client_dn, "offer client dn");

  XmlLines xml;
  xml.line(0, tunnel_info_line(offer.type, offer.lifetime));
  xml.line(1, "<server>");
  xml.address(2, "ipv4", offer.server_v4.to_string());
  xml.address(2, "ipv6", offer.server_v6.to_expanded_string());
  xml.line(1, "</server>");
  xml.line(1, "<client>");
  xml.address(2, "ipv4", offer.client_v4.to_string());
  xml.address(2, "ipv6", offer.client_v6.to_expanded_string());
  if (offer.client_dn) xml.address(2, "dn", *offer.client_dn);
  xml.line(2, "<dns_server>");
  xml.address(3, "ipv6", offer.dns_server.to_expanded_string());
  xml.line(2, "</dns_server>");
  if (offer.prefix) {
    // gogoc cuts TSP_PREFIX out of this text by groups, so it must be fully expanded.
    xml.line(2, "<router>");
    xml.line(3, "<prefix length=\"" + std::to_string(offer.prefix->len) + "\">" +
                    offer.prefix->addr.masked(offer.prefix->len).to_expanded_string() + "</prefix>");
    xml.line(2, "</router>");
  }
  xml.line(2, "<keepalive interval=\"" + std::to_string(offer.keepalive_interval) + "\">");
  xml.address(3, "ipv6", offer.keepalive_address.to_expanded_string());
  xml.line(2, "</keepalive>");
  xml.line(1, "</client>");
  xml.line(0, "</tunnel>");
  return xml.str();
}

std::string write_redirect_xml(const std::vector<std::string>& brokers, uint32_t lifetime) {
  if (brokers.empty()) throw std::invalid_argument("redirect needs at least one broker");
  if (brokers.size() > kMaxBrokers)
    throw std::invalid_argument("redirect lists " + std::to_string(brokers.size()) + " brokers (max " +
                                std::to_string(kMaxBrokers) + ")");

  XmlLines xml;
  xml.line(0, tunnel_info_line("v6anyv4", lifetime));
  xml.line(1, "<broker>");
  for (const auto& broker : brokers) {
    require_plain(broker, "redirect broker");
    const char* type = Ipv4Addr::parse(broker) ? "ipv4" : Ipv6Addr::parse(broker) ? "ipv6" : "dn";
    xml.address(2, type, broker);
  }
  xml.line(1, "</broker>");
  xml.line(0, "</tunnel>");
  return xml.str();
}

}  // namespace tsp::xml
