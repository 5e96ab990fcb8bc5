#include "tests/e2e/tsp_messages.hpp"

#include <cctype>
#include <map>
#include <memory>

namespace tsp::e2e {

std::string version_line(std::string_view version) {
  return "VERSION=" + std::string(version) + "\r\n";
}

std::string authenticate_line(std::string_view mechanism) {
  std::string line = "AUTHENTICATE " + std::string(mechanism) + "\r\n";
  line += '\0';
  return line;
}

std::string plain_blob(std::string_view user, std::string_view password) {
  std::string blob(1, '\0');
  blob += user;
  blob += '\0';
  blob += password;
  blob += "\r\n";
  return blob;
}

std::string request_xml(const TunnelRequestSpec& spec) {
  std::string x;
  x += "<tunnel action=\"create\" type=\"" + spec.type + "\" proxy=\"" + (spec.proxy ? "yes" : "no") + "\">\r\n";
  x += " <client>\r\n";
  // A v4v6 build of gogoc declares its IPv6 endpoint and pings an IPv4 placeholder.
  const bool v4v6 = spec.type == "v4v6";
  if (v4v6)
    x += "  <address type=\"ipv6\">" + spec.client_ipv6 + "</address>\r\n";
  else
    x += "  <address type=\"ipv4\">" + spec.client_ipv4 + "</address>\r\n";
  if (spec.keepalive_interval) {
    x += "  <keepalive interval=\"" + std::to_string(*spec.keepalive_interval) + "\">\r\n";
    x += v4v6 ? "    <address type=\"ipv4\">127.0.0.1</address>\r\n" : "    <address type=\"ipv6\">::</address>\r\n";
    x += "  </keepalive>\r\n";
  }
  if (spec.router_prefix_length) {
    x += "  <router>\r\n";
    x += "   <prefix length=\"" + std::to_string(*spec.router_prefix_length) + "\"/>\r\n";
    if (!spec.dns_names.empty()) {
      x += "   <dns_server>\r\n";
      for (const auto& name : spec.dns_names) x += "     <address type=\"dn\">" + name + "</address>\r\n";
      x += "   </dns_server>\r\n";
    }
    x += "  </router>\r\n";
  }
  x += " </client>\r\n";
  x += "</tunnel>\r\n";
  return x;
}

std::string content_length_frame(std::string_view body) {
  return "Content-length: " + std::to_string(body.size()) + "\r\n" + std::string(body);
}

std::string create_request(const TunnelRequestSpec& spec) { return content_length_frame(request_xml(spec)); }

int leading_status_code(std::string_view line) {
  int code = 0;
  size_t i = 0;
  for (; i < line.size() && i < 9 && std::isdigit(static_cast<unsigned char>(line[i])); ++i)
    code = code * 10 + (line[i] - '0');
  return i == 0 ? -1 : code;
}

std::variant<FramedReply, std::string> parse_framed_reply(std::string_view payload) {
  static constexpr std::string_view kHeader = "Content-length: ";
  if (payload.substr(0, kHeader.size()) != kHeader) return "reply does not start with \"Content-length: \"";
  const size_t eol = payload.find("\r\n");
  if (eol == std::string_view::npos) return "Content-length line has no CRLF";
  const std::string_view digits = payload.substr(kHeader.size(), eol - kHeader.size());
  if (digits.empty() || digits.size() > 6) return "Content-length value missing or too long";
  FramedReply reply;
  for (char c : digits) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return "Content-length value is not a number";
    reply.declared_length = reply.declared_length * 10 + static_cast<size_t>(c - '0');
  }
  const std::string_view body = payload.substr(eol + 2);
  if (body.size() != reply.declared_length)
    return "Content-length says " + std::to_string(reply.declared_length) + " but " +
           std::to_string(body.size()) + " bytes follow";
  const size_t status_end = body.find("\r\n");
  if (status_end == std::string_view::npos) return "status line has no CRLF";
  reply.status_line = std::string(body.substr(0, status_end + 2));
  reply.status = leading_status_code(reply.status_line);
  if (reply.status < 0) return "status line does not start with digits";
  reply.xml = std::string(body.substr(status_end + 2));
  return reply;
}

namespace {

// A minimal element tree of the subset gogoc's parser reads: <name attr="v">, <name/>, text.
struct Element {
  std::string name;
  std::map<std::string, std::string> attributes;
  std::string text;
  std::vector<std::unique_ptr<Element>> children;

  const Element* child(std::string_view n) const {
    for (const auto& c : children)
      if (c->name == n) return c.get();
    return nullptr;
  }
  std::string attribute(const std::string& n) const {
    auto it = attributes.find(n);
    return it == attributes.end() ? std::string() : it->second;
  }
};

class MiniXmlReader {
 public:
  explicit MiniXmlReader(std::string_view xml) : xml_(xml) {}

  std::variant<std::unique_ptr<Element>, std::string> read_document() {
    skip_space();
    auto root = read_element(0);
    if (!root) return error_;
    skip_space();
    if (pos_ != xml_.size()) return "text after the root element at offset " + std::to_string(pos_);
    return root;
  }

 private:
  static bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; }

  void skip_space() {
    while (pos_ < xml_.size() && std::isspace(static_cast<unsigned char>(xml_[pos_]))) ++pos_;
  }

  std::unique_ptr<Element> fail(std::string why) {
    if (error_.empty()) error_ = why + " at offset " + std::to_string(pos_);
    return nullptr;
  }

  std::string read_name() {
    const size_t start = pos_;
    while (pos_ < xml_.size() && is_name_char(xml_[pos_])) ++pos_;
    return std::string(xml_.substr(start, pos_ - start));
  }

  std::unique_ptr<Element> read_element(int depth) {
    if (depth > 16) return fail("elements nested too deep");
    if (pos_ >= xml_.size() || xml_[pos_] != '<') return fail("expected '<'");
    ++pos_;
    auto e = std::make_unique<Element>();
    e->name = read_name();
    if (e->name.empty()) return fail("expected an element name");
    for (;;) {
      skip_space();
      if (pos_ >= xml_.size()) return fail("unterminated tag <" + e->name);
      if (xml_.substr(pos_, 2) == "/>") {
        pos_ += 2;
        return e;
      }
      if (xml_[pos_] == '>') {
        ++pos_;
        break;
      }
      std::string attr = read_name();
      if (attr.empty() || xml_.substr(pos_, 2) != "=\"") return fail("bad attribute in <" + e->name);
      pos_ += 2;
      const size_t end = xml_.find('"', pos_);
      if (end == std::string_view::npos) return fail("unterminated attribute value");
      e->attributes[attr] = std::string(xml_.substr(pos_, end - pos_));
      pos_ = end + 1;
    }
    for (;;) {
      const size_t lt = xml_.find('<', pos_);
      if (lt == std::string_view::npos) return fail("missing </" + e->name + ">");
      const std::string_view text = xml_.substr(pos_, lt - pos_);
      pos_ = lt;
      if (xml_.substr(pos_, 2) == "</") {
        pos_ += 2;
        if (read_name() != e->name || pos_ >= xml_.size() || xml_[pos_] != '>')
          return fail("mismatched closing tag for <" + e->name + ">");
        ++pos_;
        if (e->children.empty()) e->text = std::string(text);
        return e;
      }
      auto child = read_element(depth + 1);
      if (!child) return nullptr;
      e->children.push_back(std::move(child));
    }
  }

  std::string_view xml_;
  size_t pos_ = 0;
  std::string error_;
};

// Text of the first direct <address type="..."> child of `parent`.
std::string address_of_type(const Element* parent, std::string_view type) {
  if (!parent) return {};
  for (const auto& c : parent->children)
    if (c->name == "address" && c->attribute("type") == type) return c->text;
  return {};
}

}  // namespace

std::variant<OfferFields, std::string> parse_offer(std::string_view xml) {
  MiniXmlReader reader(xml);
  auto doc = reader.read_document();
  if (auto* err = std::get_if<std::string>(&doc)) return *err;
  const Element& tunnel = *std::get<std::unique_ptr<Element>>(doc);
  if (tunnel.name != "tunnel") return "root element is <" + tunnel.name + ">, not <tunnel>";

  OfferFields f;
  f.action = tunnel.attribute("action");
  f.type = tunnel.attribute("type");
  f.lifetime = tunnel.attribute("lifetime");
  const Element* server = tunnel.child("server");
  f.server_ipv4 = address_of_type(server, "ipv4");
  f.server_ipv6 = address_of_type(server, "ipv6");
  if (const Element* client = tunnel.child("client")) {
    f.client_ipv4 = address_of_type(client, "ipv4");
    f.client_ipv6 = address_of_type(client, "ipv6");
    f.dns_server_ipv6 = address_of_type(client->child("dns_server"), "ipv6");
    if (const Element* keepalive = client->child("keepalive")) {
      f.keepalive_interval = keepalive->attribute("interval");
      f.keepalive_address = address_of_type(keepalive, "ipv6");
    }
    if (const Element* router = client->child("router")) {
      if (const Element* prefix = router->child("prefix")) {
        f.prefix_length = prefix->attribute("length");
        f.prefix = prefix->text;
      }
    }
  }
  if (const Element* broker = tunnel.child("broker")) {
    for (const auto& c : broker->children)
      if (c->name == "address") f.brokers.emplace_back(c->attribute("type"), c->text);
  }
  return f;
}

std::string expected_host_offer_xml(const ExpectedHostOffer& o) {
  std::string x;
  x += "<tunnel action=\"info\" type=\"" + o.type + "\" lifetime=\"" + std::to_string(o.lifetime) + "\">\r\n";
  x += " <server>\r\n";
  x += "  <address type=\"ipv4\">" + o.server_ipv4 + "</address>\r\n";
  x += "  <address type=\"ipv6\">" + o.server_ipv6 + "</address>\r\n";
  x += " </server>\r\n";
  x += " <client>\r\n";
  x += "  <address type=\"ipv4\">" + o.client_ipv4 + "</address>\r\n";
  x += "  <address type=\"ipv6\">" + o.client_ipv6 + "</address>\r\n";
  x += "  <dns_server>\r\n";
  x += "   <address type=\"ipv6\">" + o.dns_server_ipv6 + "</address>\r\n";
  x += "  </dns_server>\r\n";
  x += "  <keepalive interval=\"" + std::to_string(o.keepalive_interval) + "\">\r\n";
  x += "   <address type=\"ipv6\">" + o.server_ipv6 + "</address>\r\n";
  x += "  </keepalive>\r\n";
  x += " </client>\r\n";
  x += "</tunnel>\r\n";
  return x;
}

std::string expected_host_offer_reply(const ExpectedHostOffer& offer) {
  const std::string body = std::string(kSuccess) + expected_host_offer_xml(offer);
  return content_length_frame(body);
}

std::string printable(std::string_view bytes, size_t max_bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < bytes.size() && i < max_bytes; ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    if (b == '\r') {
      out += "\\r";
    } else if (b == '\n') {
      out += "\\n";
    } else if (b == '\\' || b == '"') {
      out += '\\';
      out += static_cast<char>(b);
    } else if (b < 0x20 || b >= 0x7f) {
      out += "\\x";
      out += kHex[b >> 4];
      out += kHex[b & 0xF];
    } else {
      out += static_cast<char>(b);
    }
  }
  out += '"';
  if (bytes.size() > max_bytes) out += " ... (" + std::to_string(bytes.size()) + " bytes)";
  return out;
}

bool is_expanded_ipv6(std::string_view text) {
  if (text.size() != 39) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i % 5 == 4) {
      if (c != ':') return false;
    } else if (!std::isdigit(static_cast<unsigned char>(c)) && (c < 'a' || c > 'f')) {
      return false;
    }
  }
  return true;
}

}  // namespace tsp::e2e
