// write_request_xml: the create request exactly as gogoc 1.2 lays it out (§3.2), so the broker
// sees from our client the same bytes it sees from the legacy one.
#include <stdexcept>

#include "control/xml/tunnel_xml.hpp"
#include "control/xml/xml_text.hpp"

namespace tsp::xml {

using namespace detail;

namespace {

void require_plain(std::string_view text, std::string_view what) {
  if (!is_plain_xml_token(text))
    throw std::invalid_argument("request " + std::string(what) + " '" + std::string(text) +
                                "' is empty, too long or holds characters that cannot be written");
}

}  // namespace

std::string write_request_xml(const RequestSpec& spec) {
  const bool v4v6 = spec.type == "v4v6";  // IPv4-in-IPv6: the address families swap
  const std::string& client_address = v4v6 ? spec.client_ipv6 : spec.client_ipv4;
  require_plain(spec.type, "type");
  require_plain(client_address, v4v6 ? "client_ipv6" : "client_ipv4");
  if (spec.router && spec.prefix_length > (v4v6 ? 32u : 128u))
    throw std::invalid_argument("request prefix length " + std::to_string(spec.prefix_length) + " out of range");
  if (spec.dns_names.size() > kMaxDnsNames)
    throw std::invalid_argument("request has more than " + std::to_string(kMaxDnsNames) + " dns names");
  for (const auto& dn : spec.dns_names) require_plain(dn, "dns name");

  XmlLines xml;
  xml.line(0, "<tunnel action=\"create\" type=\"" + spec.type + "\" proxy=\"" + (spec.proxy ? "yes" : "no") + "\">");
  xml.line(1, "<client>");
  xml.address(2, v4v6 ? "ipv6" : "ipv4", client_address);
  if (spec.keepalive_interval) {
    xml.line(2, "<keepalive interval=\"" + std::to_string(*spec.keepalive_interval) + "\">");
    // gogoc indents this address by two more spaces, not one; byte counts depend on it.
    if (v4v6) xml.address(4, "ipv4", "127.0.0.1");
    else xml.address(4, "ipv6", "::");
    xml.line(2, "</keepalive>");
  }
  if (spec.router) {
    const unsigned length = spec.prefix_length != 0 ? spec.prefix_length : (v4v6 ? 24u : 48u);
    xml.line(2, "<router>");
    xml.line(3, "<prefix length=\"" + std::to_string(length) + "\"/>");
    if (!spec.dns_names.empty()) {
      xml.line(3, "<dns_server>");
      for (const auto& dn : spec.dns_names) xml.address(5, "dn", dn);  // again two extra spaces
      xml.line(3, "</dns_server>");
    }
    xml.line(2, "</router>");
  }
  xml.line(1, "</client>");
  xml.line(0, "</tunnel>");
  return xml.str();
}

}  // namespace tsp::xml
