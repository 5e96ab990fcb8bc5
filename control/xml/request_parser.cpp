// parse_tunnel_request: the broker's reading of a client's <tunnel> request (§3.2, §3.4).
// Tolerant where real clients differ (whitespace, attribute order, unknown elements, upper-case
// values), strict where a guess would be wrong (duplicates, bad numbers, missing type).
#include "control/xml/safe_xml.hpp"
#include "control/xml/tunnel_xml.hpp"
#include "control/xml/xml_text.hpp"

namespace tsp::xml {

using namespace detail;

namespace {

// A gogoc request has about 25 tags nested at most 5 deep (tunnel/client/router/dns_server/
// address): real clients stay far below these limits.
constexpr XmlLimits kRequestLimits{kMaxXmlBytes, 256, 8};

std::optional<TunnelAction> action_from(std::string_view text) {
  if (text == "create") return TunnelAction::Create;
  if (text == "accept") return TunnelAction::Accept;
  if (text == "reject") return TunnelAction::Reject;
  if (text == "delete") return TunnelAction::Delete;
  if (text == "info") return TunnelAction::Info;
  return std::nullopt;
}

// Reads the `name` attribute of `n` as a number; nullopt if absent, error text if not a number.
std::variant<std::optional<unsigned>, std::string> number_attribute(const Node& n, std::string_view name,
                                                                    std::string_view what) {
  const auto text = attribute(n, name);
  if (!text) return std::optional<unsigned>{};
  const auto value = parse_u32(*text);
  if (!value) return std::string(what) + " not a number: '" + *text + "'";
  return std::optional<unsigned>{*value};
}

std::optional<std::string> read_router(const Node& router, TunnelRequest& req) {
  req.router = true;
  bool seen_prefix = false;
  for (auto* c = first_element(router); c; c = next_element(*c)) {
    const auto name = name_of(*c);
    if (name == "prefix") {
      if (seen_prefix) return "duplicate <router><prefix>";
      seen_prefix = true;
      auto len = number_attribute(*c, "length", "prefix length");
      if (auto* err = std::get_if<std::string>(&len)) return *err;
      req.prefix_length = std::get<std::optional<unsigned>>(len);
    } else if (name == "dns_server") {
      for (auto* a = first_element(*c); a; a = next_element(*a)) {
        if (name_of(*a) != "address") continue;
        const auto type = attribute(*a, "type");
        if (!type) return "<dns_server><address> without type attribute";
        // The DTD also allows ipv4/ipv6 name servers here; only names are used for delegation.
        if (!equals_ignore_case(*type, "dn")) continue;
        if (req.dns_names.size() == kMaxDnsNames)
          return "too many dns_server names (max " + std::to_string(kMaxDnsNames) + ")";
        req.dns_names.push_back(text_of(*a));
      }
    }
  }
  return std::nullopt;
}

std::optional<std::string> read_client(const Node& client, TunnelRequest& req) {
  bool seen_keepalive = false;
  for (auto* c = first_element(client); c; c = next_element(*c)) {
    const auto name = name_of(*c);
    if (name == "address") {
      const auto type = attribute(*c, "type");
      if (!type) return "<client><address> without type attribute";
      std::optional<std::string>* slot = nullptr;
      if (equals_ignore_case(*type, "ipv4")) slot = &req.client_ipv4;
      else if (equals_ignore_case(*type, "ipv6")) slot = &req.client_ipv6;
      else continue;  // e.g. a dn: the broker decides names itself
      if (*slot) return "duplicate <client><address type=\"" + to_lower(*type) + "\">";
      *slot = text_of(*c);
    } else if (name == "keepalive") {
      if (seen_keepalive) return "duplicate <client><keepalive>";
      seen_keepalive = true;
      auto interval = number_attribute(*c, "interval", "keepalive interval");
      if (auto* err = std::get_if<std::string>(&interval)) return *err;
      req.keepalive_interval = std::get<std::optional<unsigned>>(interval);
      // The keepalive <address> (always "::" from gogoc) carries nothing for the broker.
    } else if (name == "router") {
      if (req.router) return "duplicate <client><router>";
      if (auto err = read_router(*c, req)) return err;
    }
  }
  return std::nullopt;
}

}  // namespace

std::variant<TunnelRequest, std::string> parse_tunnel_request(std::string_view xml) {
  auto parsed = parse_xml(xml, kRequestLimits);
  if (auto* err = std::get_if<std::string>(&parsed)) return std::move(*err);
  const Node& tunnel = std::get<XmlTree>(parsed).root();
  if (name_of(tunnel) != "tunnel") return "root element must be <tunnel>, not <" + std::string(name_of(tunnel)) + ">";

  TunnelRequest req;
  const auto action_text = attribute(tunnel, "action");
  if (!action_text) return "missing action attribute on <tunnel>";
  const auto action = action_from(to_lower(*action_text));
  if (!action) return "unknown action '" + *action_text + "'";
  req.action = *action;

  req.type = to_lower(attribute(tunnel, "type").value_or(""));
  if (req.action == TunnelAction::Create && req.type.empty()) return "create request without tunnel type";

  if (const auto proxy = attribute(tunnel, "proxy")) {
    if (equals_ignore_case(*proxy, "yes")) req.proxy = true;
    else if (!equals_ignore_case(*proxy, "no")) return "proxy must be \"yes\" or \"no\", not '" + *proxy + "'";
  }

  bool seen_client = false;
  for (auto* c = first_element(tunnel); c; c = next_element(*c)) {
    if (name_of(*c) != "client") continue;
    if (seen_client) return "duplicate <client>";
    seen_client = true;
    if (auto err = read_client(*c, req)) return std::move(*err);
  }
  return req;
}

}  // namespace tsp::xml
