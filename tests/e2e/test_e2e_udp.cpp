// TSP over UDP with gogoc's RUDP header (tsp-protocol.md §1.2, §1.3, §1.6, §3.5 (a)):
// header echo, sequence handling, retransmissions, version negotiation, ECHO REQUEST.
#include <catch2/catch.hpp>

#include "tests/e2e/broker_process.hpp"
#include "tests/e2e/tsp_dialogs.hpp"

namespace tsp::e2e {
namespace {

constexpr std::string_view kFirstClientIpv6 = "2001:0db8:f001:0001:0000:0000:0000:0002";
constexpr std::string_view kSecondClientIpv6 = "2001:0db8:f001:0001:0000:0000:0000:0003";

// The reply must echo the header of the request it answers, byte for byte.
void check_header_echo(const RudpReply& reply, const RudpClient& client) {
  CHECK(hex_dump({reinterpret_cast<const char*>(reply.header.data()), 8}) ==
        hex_dump({reinterpret_cast<const char*>(client.last_header().data()), 8}));
}

}  // namespace

TEST_CASE("UDP: anonymous host without NAT, every reply byte for byte", "[e2e][udp]") {
  BrokerProcess broker;
  broker.start();
  RudpClient c(broker.port());

  const RudpReply capability = c.request(version_line("2.0.2"));
  CHECK(capability.sequence_word() == 0xF00000F0u);  // gogoc's first word: F0 00 00 F0
  check_header_echo(capability, c);
  CHECK(printable(capability.payload) == printable(kCapabilityAll));

  const RudpReply auth = c.request(authenticate_line("ANONYMOUS"));
  CHECK(auth.sequence_word() == 0xF00000F1u);
  check_header_echo(auth, c);
  CHECK(printable(auth.payload) == printable(kSuccess));

  const std::string request = create_request({});
  REQUIRE(request.substr(0, 21) == "Content-length: 214\r\n");  // the length gogoc sent (§3.1)
  const RudpReply offer = c.request(request);
  check_header_echo(offer, c);
  ExpectedHostOffer expected;
  expected.type = "v6v4";  // declared 127.0.0.1 = observed: no NAT
  expected.client_ipv6 = kFirstClientIpv6;
  CHECK(printable(offer.payload) == printable(expected_host_offer_reply(expected)));

  const RudpReply accepted = c.request(kAccept);
  check_header_echo(accepted, c);
  CHECK(printable(accepted.payload) == printable(""));
  CHECK(c.stray_datagrams().empty());

  broker.stop_expect_clean_exit();
}

TEST_CASE("UDP: v6anyv4 behind NAT gets v6udpv4 to the observed address", "[e2e][udp]") {
  BrokerProcess broker;
  broker.start();
  RudpClient c(broker.port());
  udp_hello(c);
  udp_login_anonymous(c);

  TunnelRequestSpec spec;
  spec.client_ipv4 = "192.168.1.10";  // the private address gogoc declares behind a NAT
  REQUIRE(request_xml(spec).size() == 217);
  const RudpReply offer = c.request(create_request(spec));
  ExpectedHostOffer expected;
  expected.type = "v6udpv4";
  expected.client_ipv4 = "127.0.0.1";  // the observed source, not the declared one
  expected.client_ipv6 = kFirstClientIpv6;
  CHECK(printable(offer.payload) == printable(expected_host_offer_reply(expected)));
  udp_accept(c);

  broker.stop_expect_clean_exit();
}

TEST_CASE("UDP: a retransmission gets the cached reply and does not advance the session", "[e2e][udp]") {
  BrokerProcess broker;
  broker.start();
  RudpClient c(broker.port());

  c.send(version_line("2.0.2"));
  const auto capability = c.wait_reply();
  REQUIRE(capability);
  REQUIRE(printable(capability->payload) == printable(kCapabilityAll));

  SECTION("VERSION resent after CAPABILITY arrived: same CAPABILITY, then AUTHENTICATE works") {
    c.retransmit();
    const auto again = c.wait_reply();
    REQUIRE(again);
    INFO("the reply to a retransmission echoes the retransmitted header (new timestamp)");
    check_header_echo(*again, c);
    CHECK(printable(again->payload) == printable(capability->payload));
    udp_login_anonymous(c);
    udp_create_offer(c, {});
  }

  SECTION("every step resent: same replies, and the create does not allocate twice") {
    c.send(authenticate_line("ANONYMOUS"));
    REQUIRE(c.wait_reply());
    c.retransmit();
    const auto auth_again = c.wait_reply();
    REQUIRE(auth_again);
    CHECK(printable(auth_again->payload) == printable(kSuccess));

    c.send(create_request({}));
    const auto offer = c.wait_reply();
    REQUIRE(offer);
    c.retransmit();
    const auto offer_again = c.wait_reply();
    REQUIRE(offer_again);
    check_header_echo(*offer_again, c);
    CHECK(printable(offer_again->payload) == printable(offer->payload));
    CHECK(require_offer(require_framed(offer->payload)).client_ipv6 == kFirstClientIpv6);

    c.send(kAccept);
    const auto accepted = c.wait_reply();
    REQUIRE(accepted);
    CHECK(accepted->payload.empty());
    c.retransmit();
    const auto accepted_again = c.wait_reply();
    REQUIRE(accepted_again);
    CHECK(printable(accepted_again->payload) == printable(""));

    INFO("the next client gets ::3: the retransmitted create did not take an address");
    TunnelRequestSpec elsewhere;
    elsewhere.client_ipv4 = unique_loopback_source();
    RudpClient second(broker.port(), elsewhere.client_ipv4);
    udp_hello(second);
    udp_login_anonymous(second);
    CHECK(udp_create_offer(second, elsewhere).client_ipv6 == kSecondClientIpv6);
  }

  broker.stop_expect_clean_exit();
}

TEST_CASE("UDP: a fresh VERSION with a new sequence resets the session", "[e2e][udp]") {
  BrokerProcess broker;
  broker.start();
  RudpClient c(broker.port());
  udp_hello(c);
  udp_login_anonymous(c);

  const RudpReply capability = c.request(version_line("2.0.2"));
  CHECK(printable(capability.payload) == printable(kCapabilityAll));
  INFO("after the reset the session expects AUTHENTICATE again");
  udp_login_anonymous(c);
  udp_create_offer(c, {});
  udp_accept(c);

  broker.stop_expect_clean_exit();
}

TEST_CASE("UDP: ECHO REQUEST gets 200 Success in every state", "[e2e][udp]") {
  BrokerProcess broker;
  broker.start();
  RudpClient c(broker.port());
  const auto echo = [&c] {
    const RudpReply r = c.request(kEchoRequest);
    check_header_echo(r, c);
    CHECK(printable(r.payload) == printable(kSuccess));
  };

  echo();  // before VERSION
  udp_hello(c);
  echo();
  udp_login_anonymous(c);
  echo();
  udp_create_offer(c, {});
  echo();
  udp_accept(c);
  echo();  // with the tunnel up

  broker.stop_expect_clean_exit();
}

TEST_CASE("UDP: supported and unsupported versions", "[e2e][udp]") {
  BrokerProcess broker;
  broker.add_user("dave", "daves password");
  broker.start();

  for (const char* version : {"2.0.2", "2.0.1", "2.0.0", "1.0.1"}) {
    INFO("VERSION=" << version);
    RudpClient c(broker.port());
    CHECK(printable(c.request(version_line(version)).payload) == printable(kCapabilityAll));
  }
  {
    RudpClient c(broker.port());
    CHECK(printable(c.request(version_line("3.0.0")).payload) == printable(kUnsupportedVersion));
  }

  SECTION("1.0.1 sends no accept: the offer is the end of the negotiation") {
    RudpClient c(broker.port());
    udp_hello(c, "1.0.1");
    udp_login_anonymous(c);
    const OfferFields offer = udp_create_offer(c, {});
    CHECK(offer.type == "v6v4");
    CHECK(offer.client_ipv6 == kFirstClientIpv6);

    INFO("the 1.0.1 tunnel is live without an accept: 127.0.0.1's proto-41 key is taken, so "
         "another user's v6v4 tunnel from 127.0.0.1 is refused with 506");
    RudpClient other(broker.port());
    udp_hello(other);
    udp_login_plain(other, "dave", "daves password");
    const FramedReply reply = udp_create(other, {});
    INFO("reply: " << printable(reply.status_line + reply.xml));
    CHECK(reply.status == 506);
  }

  SECTION("contrast: a 2.0.2 offer without its accept holds no tunnel yet") {
    RudpClient c(broker.port());
    udp_hello(c);
    udp_login_anonymous(c);
    udp_create_offer(c, {});
    RudpClient other(broker.port());
    udp_hello(other);
    udp_login_plain(other, "dave", "daves password");
    udp_create_offer(other, {});
    udp_accept(other);
  }

  SECTION("gogoc's fallback: 2.1.0 refused, then a new socket with 2.0.1") {
    {
      RudpClient first(broker.port());
      CHECK(printable(first.request(version_line("2.1.0")).payload) == printable(kUnsupportedVersion));
    }
    RudpClient second(broker.port());  // new source port, sequence back at F0 00 00 F0
    const RudpReply capability = second.request(version_line("2.0.1"));
    CHECK(capability.sequence_word() == 0xF00000F0u);
    CHECK(printable(capability.payload) == printable(kCapabilityAll));
    udp_login_anonymous(second);
    udp_create_offer(second, {});
    udp_accept(second);
  }

  broker.stop_expect_clean_exit();
}

}  // namespace tsp::e2e
