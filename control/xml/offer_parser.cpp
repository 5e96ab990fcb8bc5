// parse_offer_xml: the client's reading of a broker's offer (§3.3) or redirect (§6).
// Addresses are checked here, since a client that sets up a tunnel from a bad literal fails
// much later and less clearly (gogoc answers ERR_BAD_TUNNEL_PARAM).
#include <utility>

#include "control/xml/safe_xml.hpp"
#include "control/xml/tunnel_xml.hpp"
#include "control/xml/xml_text.hpp"

namespace tsp::xml {

using namespace detail;

namespace {

// A redirect with 50 brokers has about 105 tags; an offer about 30, at most 4 deep.
constexpr XmlLimits kOfferLimits{kMaxXmlBytes, 256, 8};

using Error = std::optional<std::string>;

// Stores the parsed literal of `a` into `slot`; `where` names the element in error texts.
template <typename Addr>
Error read_address(const Node& a, std::optional<Addr>& slot, const std::string& where) {
  if (slot) return "duplicate " + where;
  const auto text = text_of(a);
  slot = Addr::parse(text);
  if (!slot) return where + " '" + text + "' is not a valid address";
  return std::nullopt;
}

// <address type="..."> children of `parent`: calls `on(type, node)` for each one.
template <typename F>
Error for_each_address(const Node& parent, std::string_view parent_name, F&& on) {
  for (auto* a = first_element(parent); a; a = next_element(*a)) {
    if (name_of(*a) != "address") continue;
    const auto type = attribute(*a, "type");
    if (!type) return "<" + std::string(parent_name) + "><address> without type attribute";
    if (auto err = on(to_lower(*type), *a)) return err;
  }
  return std::nullopt;
}

Error read_server(const Node& server, ParsedOffer& out) {
  return for_each_address(server, "server", [&](const std::string& type, const Node& a) -> Error {
    if (type == "ipv4") return read_address(a, out.server_v4, "<server><address type=\"ipv4\">");
    if (type == "ipv6") return read_address(a, out.server_v6, "<server><address type=\"ipv6\">");
    return std::nullopt;
  });
}

Error read_prefix(const Node& prefix, ParsedOffer& out) {
  if (out.prefix) return "duplicate <router><prefix>";
  const auto length_text = attribute(prefix, "length");
  if (!length_text) return "<router><prefix> without length attribute";
  const auto length = parse_u32(*length_text);
  if (!length || *length > 128) return "prefix length '" + *length_text + "' is not a number from 0 to 128";
  const auto text = text_of(prefix);
  const auto addr = Ipv6Addr::parse(text);
  if (!addr) return "prefix '" + text + "' is not a valid IPv6 address";
  if (addr->masked(*length) != *addr) return "prefix '" + text + "' has bits set beyond /" + *length_text;
  out.prefix = Ipv6Prefix{*addr, static_cast<uint8_t>(*length)};
  return std::nullopt;
}

Error read_client(const Node& client, ParsedOffer& out) {
  auto err = for_each_address(client, "client", [&](const std::string& type, const Node& a) -> Error {
    if (type == "ipv4") return read_address(a, out.client_v4, "<client><address type=\"ipv4\">");
    if (type == "ipv6") return read_address(a, out.client_v6, "<client><address type=\"ipv6\">");
    if (type == "dn") {
      if (out.client_dn) return "duplicate <client><address type=\"dn\">";
      out.client_dn = text_of(a);
    }
    return std::nullopt;
  });
  if (err) return err;

  for (auto* c = first_element(client); c; c = next_element(*c)) {
    const auto name = name_of(*c);
    if (name == "dns_server") {
      err = for_each_address(*c, "dns_server", [&](const std::string& type, const Node& a) -> Error {
        if (type == "ipv6") return read_address(a, out.dns_server, "<client><dns_server><address type=\"ipv6\">");
        return std::nullopt;
      });
    } else if (name == "router") {
      for (auto* r = first_element(*c); r && !err; r = next_element(*r))
        if (name_of(*r) == "prefix") err = read_prefix(*r, out);
    } else if (name == "keepalive") {
      if (out.keepalive_interval) return "duplicate <client><keepalive>";
      const auto interval = attribute(*c, "interval");
      if (!interval) return "<keepalive> without interval attribute";
      out.keepalive_interval = parse_u32(*interval);
      if (!out.keepalive_interval) return "keepalive interval not a number: '" + *interval + "'";
      // v4v6 offers name an IPv4 target here; this client only runs IPv6 tunnels.
      err = for_each_address(*c, "keepalive", [&](const std::string& type, const Node& a) -> Error {
        if (type == "ipv6") return read_address(a, out.keepalive_address, "<keepalive><address type=\"ipv6\">");
        return std::nullopt;
      });
    }
    if (err) return err;
  }
  return std::nullopt;
}

Error read_brokers(const Node& broker, ParsedOffer& out) {
  auto err = for_each_address(broker, "broker", [&](const std::string&, const Node& a) -> Error {
    if (out.brokers.size() == kMaxBrokers) return "redirect lists more than " + std::to_string(kMaxBrokers) + " brokers";
    auto text = text_of(a);
    if (text.empty()) return std::string("empty <broker><address>");
    out.brokers.push_back(std::move(text));
    return std::nullopt;
  });
  if (err) return err;
  if (out.brokers.empty()) return "redirect with an empty <broker> list";
  return std::nullopt;
}

// §3.3 rule 1: without these four the client cannot build a tunnel.
Error check_offer_complete(const ParsedOffer& out) {
  if (out.type.empty()) return "offer <tunnel> without type attribute";
  if (!out.server_v4) return "offer lacks <server><address type=\"ipv4\">";
  if (!out.server_v6) return "offer lacks <server><address type=\"ipv6\">";
  if (!out.client_v4) return "offer lacks <client><address type=\"ipv4\">";
  if (!out.client_v6) return "offer lacks <client><address type=\"ipv6\">";
  return std::nullopt;
}

}  // namespace

std::variant<ParsedOffer, std::string> parse_offer_xml(std::string_view xml) {
  auto parsed = parse_xml(xml, kOfferLimits);
  if (auto* err = std::get_if<std::string>(&parsed)) return std::move(*err);
  const Node& tunnel = std::get<XmlTree>(parsed).root();
  if (name_of(tunnel) != "tunnel") return "root element must be <tunnel>, not <" + std::string(name_of(tunnel)) + ">";

  ParsedOffer out;
  out.type = to_lower(attribute(tunnel, "type").value_or(""));
  if (const auto lifetime = attribute(tunnel, "lifetime")) {
    out.lifetime = parse_u32(*lifetime);
    if (!out.lifetime) return "lifetime not a number: '" + *lifetime + "'";
  }

  bool seen_server = false, seen_client = false, seen_broker = false;
  for (auto* c = first_element(tunnel); c; c = next_element(*c)) {
    const auto name = name_of(*c);
    Error err;
    if (name == "server") {
      if (std::exchange(seen_server, true)) return "duplicate <server>";
      err = read_server(*c, out);
    } else if (name == "client") {
      if (std::exchange(seen_client, true)) return "duplicate <client>";
      err = read_client(*c, out);
    } else if (name == "broker") {
      if (std::exchange(seen_broker, true)) return "duplicate <broker>";
      err = read_brokers(*c, out);
    }
    if (err) return std::move(*err);
  }
  if (seen_broker) return out;  // a redirect carries no tunnel parameters
  if (auto err = check_offer_complete(out)) return std::move(*err);
  return out;
}

}  // namespace tsp::xml
