// What the broker hands out (tsp-protocol.md §3, §4, §6, DESIGN "Allocation"): prefixes from
// the pools, stable addresses for registered users, temporary ones for anonymous users,
// exhaustion, redirection, request errors and a restart on the same store.
#include <catch2/catch.hpp>

#include "shared/net_types.hpp"
#include "tests/e2e/broker_process.hpp"
#include "tests/e2e/tsp_dialogs.hpp"

namespace tsp::e2e {
namespace {

constexpr const char* kUser = "bob";
constexpr const char* kPassword = "s3cret-p4ss";
constexpr std::string_view kClientIpv6Two = "2001:0db8:f001:0001:0000:0000:0000:0002";
constexpr std::string_view kClientIpv6Three = "2001:0db8:f001:0001:0000:0000:0000:0003";
// The endpoints pool of the exhaustion tests: ::0 is never used, ::1 is the server, so
// exactly two clients fit.
constexpr const char* kTinyEndpointsPool = "2001:db8:f001:1::/126 128";

void check_prefix_from_pool(const OfferFields& offer, unsigned length, std::string_view pool) {
  INFO("prefix " << offer.prefix << "/" << offer.prefix_length << ", expected a /" << length << " from " << pool);
  REQUIRE(offer.prefix_length == std::to_string(length));
  INFO("gogoc cuts the prefix text after whole groups: it must be fully expanded (§3.3 rule 6)");
  REQUIRE(is_expanded_ipv6(offer.prefix));
  const auto prefix = Ipv6Addr::parse(offer.prefix);
  REQUIRE(prefix);
  CHECK(prefix->masked(length) == *prefix);
  CHECK(Ipv6Prefix::parse(pool)->contains(*prefix));
}

// A PLAIN session over UDP from `source` (declared as such), up to the offer.
OfferFields registered_router_offer(RudpClient& c, const std::string& source, unsigned prefix_length) {
  udp_hello(c);
  udp_login_plain(c, kUser, kPassword);
  TunnelRequestSpec spec;
  spec.client_ipv4 = source;
  spec.router_prefix_length = prefix_length;
  return udp_create_offer(c, spec);
}

// A UDP client on a loopback address of its own that declares that address (no NAT). The
// broker keys proto-41 tunnels by the client's IPv4 address: hosts that hold tunnels at the
// same time have different addresses.
struct Host {
  std::string address = unique_loopback_source();
  RudpClient udp;

  explicit Host(uint16_t port) : udp(port, address) {}
  TunnelRequestSpec spec() const {
    TunnelRequestSpec s;
    s.client_ipv4 = address;
    return s;
  }
};

// An anonymous session up to the framed reply to a create request.
FramedReply anonymous_create(Host& h, const TunnelRequestSpec& spec) {
  udp_hello(h.udp);
  udp_login_anonymous(h.udp);
  return udp_create(h.udp, spec);
}
FramedReply anonymous_create(Host& h) { return anonymous_create(h, h.spec()); }

}  // namespace

TEST_CASE("Router prefixes come from the pool of their length, fully expanded", "[e2e][alloc]") {
  BrokerProcess broker;
  broker.add_user(kUser, kPassword);
  broker.start();

  RudpClient c64(broker.port());
  const OfferFields offer64 = registered_router_offer(c64, "127.0.0.1", 64);
  check_prefix_from_pool(offer64, 64, "2001:db8:f200::/48");
  CHECK(offer64.type == "v6v4");
  udp_accept(c64);

  broker.add_user("carol", "carols password");
  TunnelRequestSpec spec;
  spec.client_ipv4 = unique_loopback_source();  // 127.0.0.1 carries bob's tunnel
  spec.router_prefix_length = 48;
  TcpClient c48(broker.port(), spec.client_ipv4);
  tcp_hello(c48);
  tcp_login_plain(c48, "carol", "carols password");
  const OfferFields offer48 = tcp_create_offer(c48, spec);
  check_prefix_from_pool(offer48, 48, "2001:db8:f100::/40");
  CHECK(offer48.client_ipv6 != offer64.client_ipv6);
  tcp_accept(c48);

  broker.stop_expect_clean_exit();
}

TEST_CASE("A registered user keeps its /128 and prefix from a new IPv4 address", "[e2e][alloc]") {
  BrokerProcess broker;
  broker.add_user(kUser, kPassword);
  broker.start();

  RudpClient home(broker.port());
  const OfferFields first = registered_router_offer(home, "127.0.0.1", 64);
  udp_accept(home);

  INFO("the same user from 127.0.0.2 (its 'new public IPv4')");
  RudpClient moved(broker.port(), "127.0.0.2");
  const OfferFields second = registered_router_offer(moved, "127.0.0.2", 64);
  CHECK(second.client_ipv6 == first.client_ipv6);
  CHECK(second.prefix == first.prefix);
  CHECK(second.client_ipv4 == "127.0.0.2");
  CHECK(second.type == "v6v4");
  udp_accept(moved);

  Host stranger(broker.port());
  const OfferFields anonymous = require_offer(anonymous_create(stranger));
  CHECK(anonymous.client_ipv6 != first.client_ipv6);

  broker.stop_expect_clean_exit();
}

TEST_CASE("Anonymous clients get different addresses while the first tunnel lives", "[e2e][alloc]") {
  BrokerProcess broker;
  broker.start();
  Host first(broker.port());
  const OfferFields a = require_offer(anonymous_create(first));
  udp_accept(first.udp);
  Host second(broker.port());
  const OfferFields b = require_offer(anonymous_create(second));
  udp_accept(second.udp);
  CHECK(a.client_ipv6 == kClientIpv6Two);
  CHECK(b.client_ipv6 == kClientIpv6Three);
  broker.stop_expect_clean_exit();
}

TEST_CASE("Endpoint pool exhausted: the third anonymous client gets 301", "[e2e][alloc]") {
  BrokerSettings settings;
  settings.endpoints_pool = kTinyEndpointsPool;
  BrokerProcess broker(settings);
  broker.start();

  Host first(broker.port());
  CHECK(require_offer(anonymous_create(first)).client_ipv6 == kClientIpv6Two);
  udp_accept(first.udp);
  Host second(broker.port());
  CHECK(require_offer(anonymous_create(second)).client_ipv6 == kClientIpv6Three);
  udp_accept(second.udp);

  Host third(broker.port());
  const FramedReply refused = anonymous_create(third);
  INFO("reply: " << printable(refused.status_line + refused.xml));
  CHECK(refused.status == 301);

  broker.stop_expect_clean_exit();
}

TEST_CASE("Endpoint pool exhausted with a redirect broker: 1200 and the broker list", "[e2e][alloc]") {
  BrokerSettings settings;
  settings.endpoints_pool = kTinyEndpointsPool;
  settings.broker_lines.push_back("redirect broker 192.0.2.10");
  BrokerProcess broker(settings);
  broker.start();

  Host first(broker.port());
  require_offer(anonymous_create(first));
  udp_accept(first.udp);
  Host second(broker.port());
  require_offer(anonymous_create(second));
  udp_accept(second.udp);

  Host third(broker.port());
  const FramedReply redirect = anonymous_create(third);
  INFO("reply: " << printable(redirect.status_line + redirect.xml));
  CHECK(redirect.status == 1200);
  CHECK(printable(redirect.status_line) == printable("1200 Redirection\r\n"));
  const auto parsed = parse_offer(redirect.xml);
  REQUIRE(std::holds_alternative<OfferFields>(parsed));
  const OfferFields& body = std::get<OfferFields>(parsed);
  CHECK(body.action == "info");
  REQUIRE(body.brokers.size() == 1);
  CHECK(body.brokers[0].first == "ipv4");
  CHECK(body.brokers[0].second == "192.0.2.10");

  broker.stop_expect_clean_exit();
}

TEST_CASE("Tunnel request errors are framed with their status code", "[e2e][alloc]") {
  BrokerProcess broker;
  broker.add_user(kUser, kPassword);
  broker.start();
  const auto anonymous_status = [&](const TunnelRequestSpec& spec) {
    Host h(broker.port());
    const FramedReply r = anonymous_create(h, spec);
    UNSCOPED_INFO("reply: " << printable(r.status_line + r.xml));
    return r.status;
  };

  TunnelRequestSpec v4v6;
  v4v6.type = "v4v6";
  CHECK(anonymous_status(v4v6) == 303);

  TunnelRequestSpec bad_ipv4;
  bad_ipv4.client_ipv4 = "999.1.1.1";
  CHECK(anonymous_status(bad_ipv4) == 501);

  TunnelRequestSpec anonymous_router;
  anonymous_router.router_prefix_length = 64;
  CHECK(anonymous_status(anonymous_router) == 522);

  {
    INFO("a registered router asking for a /56: no /56 pool");
    RudpClient c(broker.port());
    udp_hello(c);
    udp_login_plain(c, kUser, kPassword);
    TunnelRequestSpec spec;
    spec.router_prefix_length = 56;
    const FramedReply r = udp_create(c, spec);
    INFO("reply: " << printable(r.status_line + r.xml));
    CHECK(r.status == 518);
  }

  require_fresh_sessions_work(broker.port());
  broker.stop_expect_clean_exit();
}

TEST_CASE("After a restart on the same store a registered user gets the same addresses", "[e2e][alloc]") {
  BrokerProcess broker;
  broker.add_user(kUser, kPassword);
  broker.start();
  OfferFields before;
  {
    RudpClient c(broker.port());
    before = registered_router_offer(c, "127.0.0.1", 64);
    udp_accept(c);
  }
  broker.stop_expect_clean_exit();

  broker.start();
  RudpClient c(broker.port());
  const OfferFields after = registered_router_offer(c, "127.0.0.1", 64);
  CHECK(after.client_ipv6 == before.client_ipv6);
  CHECK(after.prefix == before.prefix);
  udp_accept(c);

  INFO("an anonymous client after the restart does not get the registered user's address");
  Host stranger(broker.port());
  CHECK(require_offer(anonymous_create(stranger)).client_ipv6 != before.client_ipv6);
  broker.stop_expect_clean_exit();
}

}  // namespace tsp::e2e
