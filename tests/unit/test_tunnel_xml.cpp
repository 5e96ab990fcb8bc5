// Tunnel request/offer/redirect XML against the exact bytes of tsp-protocol.md §3.5 and §6.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

#include "control/xml/tunnel_xml.hpp"
#include "tests/unit/tsp_spec_requests.hpp"

using namespace tsp;
using namespace tsp::xml;

namespace {

const std::string& kRequestA = test::kSpecRequestA;
const std::string& kRequestB = test::kSpecRequestB;

// §3.5 (a): the offer, from `<tunnel action="info" ...` to `</tunnel>\r\n`.
const std::string kOfferA =
    "<tunnel action=\"info\" type=\"v6udpv4\" lifetime=\"604800\">\r\n"
    " <server>\r\n"
    "  <address type=\"ipv4\">203.0.113.1</address>\r\n"
    "  <address type=\"ipv6\">2001:0db8:0000:0000:0000:0000:0000:0001</address>\r\n"
    " </server>\r\n"
    " <client>\r\n"
    "  <address type=\"ipv4\">198.51.100.7</address>\r\n"
    "  <address type=\"ipv6\">2001:0db8:0000:0000:0000:0000:0000:0002</address>\r\n"
    "  <dns_server>\r\n"
    "   <address type=\"ipv6\">2001:0db8:0000:0000:0000:0000:0000:0053</address>\r\n"
    "  </dns_server>\r\n"
    "  <keepalive interval=\"30\">\r\n"
    "   <address type=\"ipv6\">2001:0db8:0000:0000:0000:0000:0000:0001</address>\r\n"
    "  </keepalive>\r\n"
    " </client>\r\n"
    "</tunnel>\r\n";

// A router offer with a delegated /64 and a DNS name, in the same layout.
const std::string kOfferB =
    "<tunnel action=\"info\" type=\"v6v4\" lifetime=\"604800\">\r\n"
    " <server>\r\n"
    "  <address type=\"ipv4\">203.0.113.1</address>\r\n"
    "  <address type=\"ipv6\">2001:0db8:0000:0000:0000:0000:0000:0001</address>\r\n"
    " </server>\r\n"
    " <client>\r\n"
    "  <address type=\"ipv4\">198.51.100.7</address>\r\n"
    "  <address type=\"ipv6\">2001:0db8:0000:0000:0000:0000:0000:0002</address>\r\n"
    "  <address type=\"dn\">bob.broker.example.net</address>\r\n"
    "  <dns_server>\r\n"
    "   <address type=\"ipv6\">2001:0db8:0000:0000:0000:0000:0000:0053</address>\r\n"
    "  </dns_server>\r\n"
    "  <router>\r\n"
    "   <prefix length=\"64\">2001:0db8:0001:0002:0000:0000:0000:0000</prefix>\r\n"
    "  </router>\r\n"
    "  <keepalive interval=\"30\">\r\n"
    "   <address type=\"ipv6\">2001:0db8:0000:0000:0000:0000:0000:0001</address>\r\n"
    "  </keepalive>\r\n"
    " </client>\r\n"
    "</tunnel>\r\n";

Ipv4Addr v4(const char* s) { return *Ipv4Addr::parse(s); }
Ipv6Addr v6(const char* s) { return *Ipv6Addr::parse(s); }

TunnelOffer offer_a() {
  TunnelOffer o;
  o.type = "v6udpv4";
  o.server_v4 = v4("203.0.113.1");
  o.server_v6 = v6("2001:db8::1");
  o.client_v4 = v4("198.51.100.7");
  o.client_v6 = v6("2001:db8::2");
  o.dns_server = v6("2001:db8::53");
  o.keepalive_address = v6("2001:db8::1");
  return o;
}

TunnelOffer offer_b() {
  TunnelOffer o = offer_a();
  o.type = "v6v4";
  o.client_dn = "bob.broker.example.net";
  o.prefix = Ipv6Prefix::parse("2001:db8:1:2::/64");
  return o;
}

TunnelRequest request_ok(std::string_view xml) {
  auto r = parse_tunnel_request(xml);
  if (auto* err = std::get_if<std::string>(&r)) FAIL("unexpected error: " << *err);
  return std::get<TunnelRequest>(r);
}

// The error text, or a marker that makes the CHECK fail if the input was accepted.
std::string request_error(std::string_view xml) {
  auto r = parse_tunnel_request(xml);
  if (auto* err = std::get_if<std::string>(&r)) return *err;
  return "<accepted>";
}

ParsedOffer offer_ok(std::string_view xml) {
  auto r = parse_offer_xml(xml);
  if (auto* err = std::get_if<std::string>(&r)) FAIL("unexpected error: " << *err);
  return std::get<ParsedOffer>(r);
}

std::string offer_error(std::string_view xml) {
  auto r = parse_offer_xml(xml);
  if (auto* err = std::get_if<std::string>(&r)) return *err;
  return "<accepted>";
}

std::string replace(std::string s, std::string_view from, std::string_view to) {
  const auto at = s.find(from);
  REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

}  // namespace

// ---------------------------------------------------------------------------------------------
// parse_tunnel_request

TEST_CASE("request (a): anonymous v6anyv4 host, exact gogoc bytes") {
  REQUIRE(kRequestA.size() == 217);
  const auto r = request_ok(kRequestA);
  CHECK(r.action == TunnelAction::Create);
  CHECK(r.type == "v6anyv4");
  CHECK_FALSE(r.proxy);
  CHECK(r.client_ipv4 == "192.168.1.10");
  CHECK_FALSE(r.client_ipv6);
  CHECK(r.keepalive_interval == 30u);
  CHECK_FALSE(r.router);
  CHECK_FALSE(r.prefix_length);
  CHECK(r.dns_names.empty());
}

TEST_CASE("request (b): router /64 with two DNS names") {
  const auto r = request_ok(kRequestB);
  CHECK(r.action == TunnelAction::Create);
  CHECK(r.type == "v6v4");
  CHECK(r.client_ipv4 == "198.51.100.7");
  CHECK(r.keepalive_interval == 30u);
  CHECK(r.router);
  CHECK(r.prefix_length == 64u);
  CHECK(r.dns_names == std::vector<std::string>{"ns1.example.net", "ns2.example.net"});
}

TEST_CASE("request actions without a client part") {
  const auto accept = request_ok("<tunnel action=\"accept\"></tunnel>\r\n");
  CHECK(accept.action == TunnelAction::Accept);
  CHECK(accept.type.empty());
  CHECK_FALSE(accept.client_ipv4);
  CHECK(request_ok("<tunnel action=\"reject\"></tunnel>\r\n").action == TunnelAction::Reject);
  CHECK(request_ok("<tunnel action=\"delete\"></tunnel>").action == TunnelAction::Delete);
  const auto info = request_ok("<tunnel action=\"info\" type=\"v6anyv4\"></tunnel>");
  CHECK(info.action == TunnelAction::Info);
  CHECK(info.type == "v6anyv4");
  CHECK(request_ok("<tunnel action=\"accept\"/>").action == TunnelAction::Accept);
}

TEST_CASE("request parsing tolerates what real clients do differently") {
  SECTION("LF only, tabs, attributes in another order, upper-case values") {
    const auto r = request_ok(
        "<tunnel proxy=\"YES\" type=\"V6V4\"   action=\"Create\">\n"
        "\t<client>\n\t\t<address type=\"IPv4\">\n 192.0.2.9 \n</address>\n"
        "\t\t<keepalive interval=\" 45 \"/>\n\t</client>\n</tunnel>");
    CHECK(r.action == TunnelAction::Create);
    CHECK(r.type == "v6v4");
    CHECK(r.proxy);
    CHECK(r.client_ipv4 == "192.0.2.9");
    CHECK(r.keepalive_interval == 45u);
  }
  SECTION("XML declaration, comments, unknown elements and attributes, trailing NUL") {
    const std::string xml =
        "<?xml version=\"1.0\"?>\r\n<!-- hello -->\r\n"
        "<tunnel action=\"create\" type=\"v6udpv4\" mtu=\"1280\">"
        "<server><address type=\"ipv4\">203.0.113.1</address></server>"
        "<client><future x=\"1\"><address type=\"ipv4\">10.9.9.9</address></future>"
        "<address type=\"ipv6\">2001:db8::10</address><address type=\"dn\">me.example</address>"
        "<router><as number=\"64500\"/><prefix length=\"48\"></prefix>"
        "<dns_server><address type=\"ipv6\">2001:db8::53</address>"
        "<address type=\"dn\">ns.example</address></dns_server></router></client></tunnel>\r\n";
    const auto r = request_ok(xml + std::string(1, '\0'));
    CHECK(r.type == "v6udpv4");
    CHECK_FALSE(r.client_ipv4);  // the one inside <future> is not the client's
    CHECK(r.client_ipv6 == "2001:db8::10");
    CHECK_FALSE(r.keepalive_interval);
    CHECK(r.router);
    CHECK(r.prefix_length == 48u);
    CHECK(r.dns_names == std::vector<std::string>{"ns.example"});
  }
  SECTION("single quotes and the five predefined entities") {
    const auto r = request_ok("<tunnel action='create' type='v6&amp;v4'><client>"
                              "<address type='ipv4'>&lt;1&gt;&quot;&apos;</address></client></tunnel>");
    CHECK(r.type == "v6&v4");
    CHECK(r.client_ipv4 == "<1>\"'");
  }
  SECTION("router without prefix, keepalive without interval") {
    const auto r = request_ok("<tunnel action=\"create\" type=\"v6v4\"><client><keepalive/>"
                              "<router><prefix/></router></client></tunnel>");
    CHECK(r.router);
    CHECK_FALSE(r.prefix_length);
    CHECK_FALSE(r.keepalive_interval);
  }
}

TEST_CASE("request parsing leaves other entities untranslated") {
  const auto r = request_ok("<tunnel action=\"create\" type=\"&#118;6v4\"><client>"
                            "<address type=\"ipv4\">1.2.3.4&#0;&unknown;</address></client></tunnel>");
  CHECK(r.type == "&#118;6v4");
  CHECK(r.client_ipv4 == "1.2.3.4&#0;&unknown;");
}

TEST_CASE("request parsing errors name what is wrong") {
  CHECK_THAT(request_error(""), StartsWith("not XML"));
  CHECK_THAT(request_error("  \r\n"), StartsWith("not XML"));
  CHECK_THAT(request_error("hello"), StartsWith("not XML"));
  CHECK_THAT(request_error("<tunnel action=\"create\" type=\"v6v4\">"), StartsWith("not XML"));
  CHECK_THAT(request_error("<tunnel action=\"create\" type=\"v6v4\"></tunel>"), StartsWith("not XML"));
  CHECK_THAT(request_error("<tunnel action=create></tunnel>"), StartsWith("not XML"));
  CHECK_THAT(request_error("<tunnel action=\"accept\"></tunnel><tunnel action=\"accept\"/>"),
             Contains("more than one root"));
  CHECK_THAT(request_error("<tunnel action=\"accept\"></tunnel>junk"), StartsWith("not XML"));
  CHECK_THAT(request_error("<Tunnel action=\"accept\"></Tunnel>"), Contains("root element must be <tunnel>"));
  CHECK_THAT(request_error("<request action=\"accept\"/>"), Contains("root element must be <tunnel>"));
  CHECK_THAT(request_error("<tunnel type=\"v6v4\"/>"), Contains("missing action"));
  CHECK_THAT(request_error("<tunnel ACTION=\"create\" type=\"v6v4\"/>"), Contains("missing action"));
  CHECK(request_error("<tunnel action=\"destroy\"/>") == "unknown action 'destroy'");
  CHECK_THAT(request_error("<tunnel action=\"create\"/>"), Contains("without tunnel type"));
  CHECK_THAT(request_error("<tunnel action=\"create\" type=\"v6v4\" proxy=\"maybe\"/>"), Contains("proxy"));
  CHECK_THAT(request_error(replace(kRequestA, "interval=\"30\"", "interval=\"abc\"")),
             StartsWith("keepalive interval not a number"));
  CHECK_THAT(request_error(replace(kRequestA, "interval=\"30\"", "interval=\"-1\"")),
             StartsWith("keepalive interval not a number"));
  CHECK_THAT(request_error(replace(kRequestA, "interval=\"30\"", "interval=\"4294967296\"")),
             StartsWith("keepalive interval not a number"));
  CHECK_THAT(request_error(replace(kRequestB, "length=\"64\"", "length=\"6x4\"")),
             StartsWith("prefix length not a number"));
  CHECK_THAT(request_error(replace(kRequestA, "<address type=\"ipv4\">", "<address>")),
             Contains("without type"));
  CHECK_THAT(request_error(replace(kRequestA, " </client>", "  <address type=\"ipv4\">1.1.1.1</address>\r\n </client>")),
             Contains("duplicate <client><address type=\"ipv4\">"));
  CHECK_THAT(request_error(replace(kRequestA, "</tunnel>", "<client/></tunnel>")), Contains("duplicate <client>"));
}

TEST_CASE("request parsing caps the number of DNS names") {
  std::string names;
  for (int i = 0; i < 8; ++i) names += "<address type=\"dn\">ns" + std::to_string(i) + ".example</address>";
  const auto head = std::string("<tunnel action=\"create\" type=\"v6v4\"><client><router><dns_server>");
  const auto tail = std::string("</dns_server></router></client></tunnel>");
  CHECK(request_ok(head + names + tail).dns_names.size() == 8);
  CHECK_THAT(request_error(head + names + "<address type=\"dn\">ns9.example</address>" + tail),
             Contains("too many dns_server names"));
}

TEST_CASE("request parsing refuses bombs, declarations and oversize input") {
  SECTION("billion laughs") {
    std::string bomb = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n";
    for (int i = 2; i <= 9; ++i) {
      bomb += " <!ENTITY lol" + std::to_string(i) + " \"";
      for (int j = 0; j < 10; ++j) bomb += "&lol" + (i == 2 ? std::string() : std::to_string(i - 1)) + ";";
      bomb += "\">\n";
    }
    bomb += "]>\n<tunnel action=\"create\" type=\"&lol9;\"/>\n";
    CHECK_THAT(request_error(bomb), Contains("DOCTYPE/ENTITY declarations are refused"));
  }
  SECTION("a bare ENTITY declaration, lower-case doctype, CDATA") {
    CHECK_THAT(request_error("<!ENTITY x \"y\"><tunnel action=\"accept\"/>"), Contains("DOCTYPE/ENTITY"));
    CHECK_THAT(request_error("<!doctype tunnel><tunnel action=\"accept\"/>"), Contains("DOCTYPE/ENTITY"));
    CHECK_THAT(request_error("<!DOCTYPE tunnel SYSTEM \"file:///etc/passwd\"><tunnel action=\"accept\"/>"),
               Contains("DOCTYPE/ENTITY"));
    CHECK_THAT(request_error("<tunnel action=\"accept\"><![CDATA[x]]></tunnel>"), Contains("'<!' not allowed"));
  }
  SECTION("oversize") {
    std::string big = replace(kRequestA, "</tunnel>", std::string(kMaxXmlBytes, ' ') + "</tunnel>");
    CHECK_THAT(request_error(big), StartsWith("XML body too large"));
    std::string just_fits = kRequestA + std::string(kMaxXmlBytes - kRequestA.size(), '\n');
    CHECK(request_ok(just_fits).type == "v6anyv4");
  }
  SECTION("deep nesting and too many elements") {
    std::string deep = "<tunnel action=\"accept\">";
    for (int i = 0; i < 8; ++i) deep += "<x>";
    for (int i = 0; i < 8; ++i) deep += "</x>";
    deep += "</tunnel>";
    CHECK_THAT(request_error(deep), Contains("nested deeper"));
    std::string very_deep(2000, '<');  // never reaches RapidXML's recursion
    CHECK_THAT(request_error(very_deep), Contains("too many elements"));
    std::string wide = "<tunnel action=\"accept\">";
    for (int i = 0; i < 300; ++i) wide += "<x/>";
    wide += "</tunnel>";
    CHECK_THAT(request_error(wide), Contains("too many elements"));
  }
  SECTION("NUL inside the body") {
    std::string with_nul = kRequestA;
    with_nul[30] = '\0';
    CHECK_THAT(request_error(with_nul), Contains("NUL byte"));
  }
}

// ---------------------------------------------------------------------------------------------
// write_request_xml

TEST_CASE("write_request_xml reproduces gogoc's request bytes") {
  RequestSpec a;
  a.type = "v6anyv4";
  a.client_ipv4 = "192.168.1.10";
  a.keepalive_interval = 30;
  CHECK(write_request_xml(a) == kRequestA);
  CHECK(write_request_xml(a).size() == 217);
  a.client_ipv4 = "127.0.0.1";
  CHECK(write_request_xml(a).size() == 214);

  RequestSpec b;
  b.type = "v6v4";
  b.client_ipv4 = "198.51.100.7";
  b.keepalive_interval = 30;
  b.router = true;
  b.prefix_length = 64;
  b.dns_names = {"ns1.example.net", "ns2.example.net"};
  CHECK(write_request_xml(b) == kRequestB);
}

TEST_CASE("write_request_xml optional parts") {
  RequestSpec s;
  s.type = "v6v4";
  s.proxy = true;
  s.client_ipv4 = "192.0.2.1";
  CHECK(write_request_xml(s) ==
        "<tunnel action=\"create\" type=\"v6v4\" proxy=\"yes\">\r\n"
        " <client>\r\n"
        "  <address type=\"ipv4\">192.0.2.1</address>\r\n"
        " </client>\r\n"
        "</tunnel>\r\n");
  s.proxy = false;
  s.router = true;
  s.prefix_length = 0;  // gogoc's default
  CHECK(write_request_xml(s) ==
        "<tunnel action=\"create\" type=\"v6v4\" proxy=\"no\">\r\n"
        " <client>\r\n"
        "  <address type=\"ipv4\">192.0.2.1</address>\r\n"
        "  <router>\r\n"
        "   <prefix length=\"48\"/>\r\n"
        "  </router>\r\n"
        " </client>\r\n"
        "</tunnel>\r\n");
}

TEST_CASE("write_request_xml v4v6 swaps the address families") {
  RequestSpec s;
  s.type = "v4v6";
  s.client_ipv6 = "2001:db8:1::10";
  s.keepalive_interval = 30;
  CHECK(write_request_xml(s) ==
        "<tunnel action=\"create\" type=\"v4v6\" proxy=\"no\">\r\n"
        " <client>\r\n"
        "  <address type=\"ipv6\">2001:db8:1::10</address>\r\n"
        "  <keepalive interval=\"30\">\r\n"
        "    <address type=\"ipv4\">127.0.0.1</address>\r\n"
        "  </keepalive>\r\n"
        " </client>\r\n"
        "</tunnel>\r\n");
  const auto r = request_ok(write_request_xml(s));
  CHECK(r.client_ipv6 == "2001:db8:1::10");
  CHECK_FALSE(r.client_ipv4);
}

TEST_CASE("write_request_xml refuses what it cannot write") {
  RequestSpec s;
  s.type = "v6v4";
  s.client_ipv4 = "192.0.2.1";
  CHECK_NOTHROW(write_request_xml(s));
  auto bad = s;
  bad.type = "v6v4\" proxy=\"yes";
  CHECK_THROWS_AS(write_request_xml(bad), std::invalid_argument);
  bad = s;
  bad.client_ipv4 = "";
  CHECK_THROWS_AS(write_request_xml(bad), std::invalid_argument);
  bad = s;
  bad.router = true;
  bad.dns_names = {"ns1.example.net", "a b"};
  CHECK_THROWS_AS(write_request_xml(bad), std::invalid_argument);
  bad.dns_names = std::vector<std::string>(9, "ns.example.net");
  CHECK_THROWS_AS(write_request_xml(bad), std::invalid_argument);
  bad = s;
  bad.router = true;
  bad.prefix_length = 129;
  CHECK_THROWS_AS(write_request_xml(bad), std::invalid_argument);
  bad.router = false;  // the length only matters when a prefix is asked for
  CHECK_NOTHROW(write_request_xml(bad));
  bad = s;
  bad.type = "v4v6";  // needs client_ipv6
  CHECK_THROWS_AS(write_request_xml(bad), std::invalid_argument);
}

TEST_CASE("write_request_xml output parses back to the same request") {
  RequestSpec s;
  s.type = "v6udpv4";
  s.client_ipv4 = "10.0.0.2";
  s.keepalive_interval = 15;
  s.router = true;
  s.prefix_length = 56;
  s.dns_names = {"a.example", "b.example", "c.example"};
  const auto r = request_ok(write_request_xml(s));
  CHECK(r.type == s.type);
  CHECK(r.client_ipv4 == s.client_ipv4);
  CHECK(r.keepalive_interval == s.keepalive_interval);
  CHECK(r.router);
  CHECK(r.prefix_length == 56u);
  CHECK(r.dns_names == s.dns_names);
}

// ---------------------------------------------------------------------------------------------
// write_offer_xml / parse_offer_xml

TEST_CASE("write_offer_xml matches the spec's offer (a) byte for byte") {
  CHECK(write_offer_xml(offer_a()) == kOfferA);
}

TEST_CASE("write_offer_xml router offer with prefix and dn") {
  CHECK(write_offer_xml(offer_b()) == kOfferB);
  // A prefix given with host bits still goes out masked (gogoc cuts it by groups).
  auto o = offer_b();
  o.prefix = Ipv6Prefix{v6("2001:db8:1:2::99"), 64};
  CHECK(write_offer_xml(o) == kOfferB);
}

TEST_CASE("write_offer_xml refuses text gogoc could not read") {
  auto o = offer_a();
  o.type = "v6v4\"><x";
  CHECK_THROWS_AS(write_offer_xml(o), std::invalid_argument);
  o = offer_b();
  o.client_dn = "bob .example";
  CHECK_THROWS_AS(write_offer_xml(o), std::invalid_argument);
  o.client_dn = "";
  CHECK_THROWS_AS(write_offer_xml(o), std::invalid_argument);
}

TEST_CASE("parse_offer_xml reads offer (a)") {
  const auto p = offer_ok(kOfferA);
  CHECK(p.type == "v6udpv4");
  CHECK(p.lifetime == 604800u);
  CHECK(p.server_v4 == v4("203.0.113.1"));
  CHECK(p.server_v6 == v6("2001:db8::1"));
  CHECK(p.client_v4 == v4("198.51.100.7"));
  CHECK(p.client_v6 == v6("2001:db8::2"));
  CHECK(p.dns_server == v6("2001:db8::53"));
  CHECK(p.keepalive_interval == 30u);
  CHECK(p.keepalive_address == v6("2001:db8::1"));
  CHECK_FALSE(p.client_dn);
  CHECK_FALSE(p.prefix);
  CHECK(p.brokers.empty());
}

TEST_CASE("parse_offer_xml round trip of write_offer_xml") {
  auto o = offer_b();
  o.lifetime = 86400;
  o.keepalive_interval = 0;
  o.prefix = Ipv6Prefix::parse("2001:db8:ab00::/40");
  const auto p = offer_ok(write_offer_xml(o));
  CHECK(p.type == o.type);
  CHECK(p.lifetime == o.lifetime);
  CHECK(p.server_v4 == o.server_v4);
  CHECK(p.server_v6 == o.server_v6);
  CHECK(p.client_v4 == o.client_v4);
  CHECK(p.client_v6 == o.client_v6);
  CHECK(p.client_dn == o.client_dn);
  CHECK(p.dns_server == o.dns_server);
  CHECK(p.prefix == o.prefix);
  CHECK(p.keepalive_interval == 0u);
  CHECK(p.keepalive_address == o.keepalive_address);
}

TEST_CASE("parse_offer_xml reads the spec's one-line style of offer (b)") {
  const auto p = offer_ok(
      "<tunnel action=\"info\" type=\"v6v4\" lifetime=\"604800\">\n"
      " <server><address type=\"ipv4\">203.0.113.1</address>\n"
      "         <address type=\"ipv6\">2001:0db8:0000:0000:0000:0000:0000:0001</address></server>\n"
      " <client><address type=\"ipv4\">198.51.100.7</address>\n"
      "         <address type=\"ipv6\">2001:0db8:0000:0000:0000:0000:0000:0002</address>\n"
      "         <address type=\"dn\">bob.broker.example.net</address>\n"
      "         <dns_server><address type=\"ipv6\">2001:0db8:0000:0000:0000:0000:0000:0053</address></dns_server>\n"
      "         <router><prefix length=\"64\">2001:0db8:0001:0002:0000:0000:0000:0000</prefix></router>\n"
      "         <keepalive interval=\"30\"><address type=\"ipv6\">2001:0db8:0000:0000:0000:0000:0000:0001</address></keepalive>\n"
      " </client></tunnel>\r\n");
  CHECK(p.prefix == Ipv6Prefix::parse("2001:db8:1:2::/64"));
  CHECK(p.client_dn == "bob.broker.example.net");
}

TEST_CASE("parse_offer_xml requires the four tunnel addresses (§3.3 rule 1)") {
  CHECK_THAT(offer_error(replace(kOfferA, "<address type=\"ipv4\">203.0.113.1</address>", "")),
             Contains("<server><address type=\"ipv4\">"));
  CHECK_THAT(offer_error(replace(kOfferA, "<address type=\"ipv6\">2001:0db8:0000:0000:0000:0000:0000:0001</address>", "")),
             Contains("<server><address type=\"ipv6\">"));
  CHECK_THAT(offer_error(replace(kOfferA, "<address type=\"ipv4\">198.51.100.7</address>", "")),
             Contains("<client><address type=\"ipv4\">"));
  CHECK_THAT(offer_error(replace(kOfferA, "<address type=\"ipv6\">2001:0db8:0000:0000:0000:0000:0000:0002</address>", "")),
             Contains("<client><address type=\"ipv6\">"));
  CHECK_THAT(offer_error(replace(kOfferA, " type=\"v6udpv4\"", "")), Contains("without type"));
  // dns_server is not required of our own client (gogoc needs it, the writer always adds it).
  const auto without_dns = replace(
      kOfferA, "<address type=\"ipv6\">2001:0db8:0000:0000:0000:0000:0000:0053</address>", "");
  CHECK_FALSE(offer_ok(without_dns).dns_server);
}

TEST_CASE("parse_offer_xml rejects bad values") {
  CHECK_THAT(offer_error(replace(kOfferA, "203.0.113.1", "203.0.113.256")), Contains("not a valid address"));
  CHECK_THAT(offer_error(replace(kOfferA, "2001:0db8:0000:0000:0000:0000:0000:0002", "2001:db8::2::3")),
             Contains("not a valid address"));
  CHECK_THAT(offer_error(replace(kOfferA, "604800", "a week")), Contains("lifetime not a number"));
  CHECK_THAT(offer_error(replace(kOfferA, "interval=\"30\"", "interval=\"\"")), Contains("keepalive interval"));
  CHECK_THAT(offer_error(replace(kOfferB, "length=\"64\"", "length=\"129\"")), Contains("prefix length"));
  CHECK_THAT(offer_error(replace(kOfferB, "2001:0db8:0001:0002:0000:0000:0000:0000", "2001:0db8:0001:0002:0000:0000:0000:0001")),
             Contains("bits set beyond /64"));
  CHECK_THAT(offer_error(replace(kOfferA, "<address type=\"ipv4\">203", "<address>203")), Contains("without type"));
  CHECK_THAT(offer_error(replace(kOfferA, " </server>", "<address type=\"ipv4\">203.0.113.2</address></server>")),
             Contains("duplicate <server><address type=\"ipv4\">"));
  CHECK_THAT(offer_error("<offer/>"), Contains("root element must be <tunnel>"));
  CHECK_THAT(offer_error("200 Success\r\n" + kOfferA), StartsWith("not XML"));
  CHECK_THAT(offer_error("<!DOCTYPE x>" + kOfferA), Contains("DOCTYPE/ENTITY"));
}

// ---------------------------------------------------------------------------------------------
// Redirects (§6)

TEST_CASE("write_redirect_xml lays out §6 and detects address types") {
  CHECK(write_redirect_xml({"192.0.2.10", "2001:db8::10", "broker2.example.net"}, 604800) ==
        "<tunnel action=\"info\" type=\"v6anyv4\" lifetime=\"604800\">\r\n"
        " <broker>\r\n"
        "  <address type=\"ipv4\">192.0.2.10</address>\r\n"
        "  <address type=\"ipv6\">2001:db8::10</address>\r\n"
        "  <address type=\"dn\">broker2.example.net</address>\r\n"
        " </broker>\r\n"
        "</tunnel>\r\n");
}

TEST_CASE("redirect writer and parser round trip") {
  const std::vector<std::string> brokers{"broker1.example.net", "192.0.2.20", "2001:db8::20"};
  const auto p = offer_ok(write_redirect_xml(brokers, 3600));
  CHECK(p.brokers == brokers);
  CHECK(p.type == "v6anyv4");
  CHECK(p.lifetime == 3600u);
  CHECK_FALSE(p.server_v4);

  const std::vector<std::string> fifty(kMaxBrokers, "b.example.net");
  CHECK(offer_ok(write_redirect_xml(fifty, 1)).brokers.size() == kMaxBrokers);
}

TEST_CASE("redirect writer refuses bad lists, parser bad redirects") {
  CHECK_THROWS_AS(write_redirect_xml({}, 604800), std::invalid_argument);
  CHECK_THROWS_AS(write_redirect_xml(std::vector<std::string>(kMaxBrokers + 1, "b.example.net"), 604800),
                  std::invalid_argument);
  CHECK_THROWS_AS(write_redirect_xml({"ok.example.net", "<evil>"}, 604800), std::invalid_argument);
  CHECK_THROWS_AS(write_redirect_xml({"ok.example.net", ""}, 604800), std::invalid_argument);

  CHECK_THAT(offer_error("<tunnel action=\"info\" type=\"v6anyv4\"><broker></broker></tunnel>"),
             Contains("empty <broker> list"));
  CHECK_THAT(offer_error("<tunnel action=\"info\"><broker><address type=\"dn\"> </address></broker></tunnel>"),
             Contains("empty <broker><address>"));
  std::string many = "<tunnel action=\"info\"><broker>";
  for (size_t i = 0; i <= kMaxBrokers; ++i) many += "<address type=\"dn\">b</address>";
  many += "</broker></tunnel>";
  CHECK_THAT(offer_error(many), Contains("more than 50 brokers"));
}
