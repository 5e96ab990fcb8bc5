// The create request tspc sends, byte for byte as gogoc 1.2 (tsp-protocol.md §3.2, §3.5).
#include <catch2/catch.hpp>

#include "tools/tspc/request_builder.hpp"
#include "tools/tspc/tunnel_runtime.hpp"
#include "tests/unit/tsp_spec_requests.hpp"

using namespace tsp;
using namespace tsp::tspc;

namespace {

const Ipv4Addr kLocal = *Ipv4Addr::parse("192.168.1.10");

TspcConfig base_config() {
  TspcConfig cfg;
  cfg.server = ServerAddress{"broker.example.net", 3653, "broker.example.net", false};
  cfg.template_name = "checktunnel";
  return cfg;
}

}  // namespace

TEST_CASE("anonymous host, v6anyv4, auto client_v4: the request of §3.5 (a)", "[tspc][request]") {
  const std::string expected = "Content-length: 217\r\n" + test::kSpecRequestA;
  CHECK(create_request_message(base_config(), kLocal) == expected);
}

TEST_CASE("router v6v4 /64 with DNS names: the request of §3.5 (b)", "[tspc][request]") {
  TspcConfig cfg = base_config();
  cfg.tunnel_mode = TunnelMode::V6V4;
  cfg.host_type = HostType::Router;
  cfg.prefixlen = 64;
  cfg.dns_server = {"ns1.example.net", "ns2.example.net"};
  cfg.client_v4 = *Ipv4Addr::parse("198.51.100.7");  // configured: the socket's address is not used
  const std::string& xml = test::kSpecRequestB;
  CHECK(create_request_message(cfg, kLocal) == "Content-length: " + std::to_string(xml.size()) + "\r\n" + xml);
}

TEST_CASE("request variants: prefix lengths, keepalive, proxy, v6udpv4", "[tspc][request]") {
  TspcConfig cfg = base_config();
  SECTION("router /48, no DNS names") {
    cfg.host_type = HostType::Router;
    cfg.prefixlen = 48;
    const xml::RequestSpec spec = make_request_spec(cfg, kLocal);
    CHECK(spec.router);
    CHECK(spec.prefix_length == 48);
    CHECK(spec.dns_names.empty());
    CHECK(create_request_message(cfg, kLocal).find("   <prefix length=\"48\"/>\r\n  </router>\r\n") != std::string::npos);
  }
  SECTION("router with prefixlen 0 asks for gogoc's default /48") {
    cfg.host_type = HostType::Router;
    cfg.prefixlen = 0;
    CHECK(create_request_message(cfg, kLocal).find("<prefix length=\"48\"/>") != std::string::npos);
  }
  SECTION("a host sends no router element even with dns_server set") {
    cfg.dns_server = {"ns1.example.net"};
    const std::string m = create_request_message(cfg, kLocal);
    CHECK(m.find("<router>") == std::string::npos);
    CHECK(m.find("ns1") == std::string::npos);
  }
  SECTION("keepalive=no: no keepalive element; interval from keepalive_interval") {
    cfg.keepalive = false;
    CHECK(create_request_message(cfg, kLocal).find("keepalive") == std::string::npos);
    cfg.keepalive = true;
    cfg.keepalive_interval = 10;
    CHECK(create_request_message(cfg, kLocal).find("<keepalive interval=\"10\">") != std::string::npos);
  }
  SECTION("proxy_client and v6udpv4") {
    cfg.proxy_client = true;
    cfg.keepalive = false;
    cfg.tunnel_mode = TunnelMode::V6V4;
    CHECK(create_request_message(cfg, kLocal).find("type=\"v6v4\" proxy=\"yes\"") != std::string::npos);
    cfg.proxy_client = false;
    cfg.tunnel_mode = TunnelMode::V6UdpV4;
    CHECK(create_request_message(cfg, kLocal).find("type=\"v6udpv4\" proxy=\"no\"") != std::string::npos);
  }
  SECTION("a DNS name gogoc could not read is refused, not sent") {
    cfg.host_type = HostType::Router;
    cfg.dns_server = {"bad<name"};
    CHECK_THROWS_AS(create_request_message(cfg, kLocal), std::invalid_argument);
  }
  CHECK(kAcceptMessage.size() == 20 + 35);
}

TEST_CASE("the template's view of an offer", "[tspc][request]") {
  TspcConfig cfg = base_config();
  cfg.host_type = HostType::Router;
  xml::ParsedOffer offer;
  offer.type = "v6v4";
  offer.server_v4 = *Ipv4Addr::parse("203.0.113.1");
  offer.client_v4 = *Ipv4Addr::parse("198.51.100.7");
  offer.server_v6 = *Ipv6Addr::parse("2001:db8::1");
  offer.client_v6 = *Ipv6Addr::parse("2001:db8::2");
  offer.dns_server = *Ipv6Addr::parse("2001:db8::53");
  offer.client_dn = "bob.broker.example.net";
  offer.prefix = *Ipv6Prefix::parse("2001:db8:1:2::/64");
  const TunnelInfo info = make_tunnel_info(cfg, offer, "sit1");
  CHECK(info.mode == "v6v4");
  CHECK(info.host_type == HostType::Router);
  CHECK(info.tunnel_interface == "sit1");
  CHECK(info.client_v4 == offer.client_v4);  // the broker's view (public address behind a NAT)
  CHECK(info.server_v6 == offer.server_v6);
  CHECK(info.dns_v6 == offer.dns_server);
  CHECK(info.dns_name == "bob.broker.example.net");
  CHECK(info.prefix_text == "2001:0db8:0001:0002");  // cut after ceil(64/16) groups, as gogoc
  CHECK(info.prefix_len == 64);
  offer.prefix = *Ipv6Prefix::parse("2001:db8:f100::/48");
  CHECK(make_tunnel_info(cfg, offer, "sit1").prefix_text == "2001:0db8:f100");
  offer.prefix.reset();
  CHECK(make_tunnel_info(cfg, offer, "sit1").prefix_text.empty());
}
