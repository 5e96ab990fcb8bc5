// TSP over TCP as gogoc speaks it (tsp-protocol.md §1.4, §5.4): one recv() per reply, no
// answer to the accept, v6udpv4 never offered on a TCP session.
#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/e2e/broker_process.hpp"
#include "tests/e2e/tsp_dialogs.hpp"

namespace tsp::e2e {

TEST_CASE("TCP: anonymous host, single-recv replies byte for byte, silent accept", "[e2e][tcp]") {
  BrokerProcess broker;
  broker.start();
  TcpClient c(broker.port());

  c.send(version_line("2.0.2"));
  CHECK(printable(c.read_reply()) == printable(kCapabilityAll));
  c.send(authenticate_line("ANONYMOUS"));
  CHECK(printable(c.read_reply()) == printable(kSuccess));

  c.send(create_request({}));
  ExpectedHostOffer expected;
  expected.type = "v6v4";
  expected.client_ipv6 = "2001:0db8:f001:0001:0000:0000:0000:0002";
  INFO("the whole offer must come in the one recv() gogoc does");
  CHECK(printable(c.read_reply()) == printable(expected_host_offer_reply(expected)));

  tcp_accept(c);  // no reply, connection still open

  broker.stop_expect_clean_exit();
}

TEST_CASE("TCP: messages cut across segments are reassembled", "[e2e][tcp]") {
  BrokerProcess broker;
  broker.start();
  TcpClient c(broker.port());
  using namespace std::chrono_literals;

  c.send("VERSI");
  std::this_thread::sleep_for(50ms);
  c.send("ON=2.0.2\r\n");
  CHECK(printable(c.read_reply()) == printable(kCapabilityAll));
  tcp_login_anonymous(c);

  const std::string request = create_request({});
  c.send(request.substr(0, 21));  // the Content-length line alone
  std::this_thread::sleep_for(50ms);
  c.send(request.substr(21, 100));
  std::this_thread::sleep_for(50ms);
  c.send(request.substr(121));
  require_offer(require_framed(c.read_reply()));
  tcp_accept(c);

  broker.stop_expect_clean_exit();
}

TEST_CASE("TCP: no v6udpv4 on a TCP session", "[e2e][tcp]") {
  BrokerProcess broker;
  broker.start();

  SECTION("v6anyv4 behind NAT cannot get v6udpv4 over TCP: a framed refusal") {
    TcpClient c(broker.port());
    tcp_hello(c);
    tcp_login_anonymous(c);
    TunnelRequestSpec spec;
    spec.client_ipv4 = "192.168.1.10";
    const FramedReply reply = tcp_create(c, spec);
    INFO("reply: " << printable(reply.status_line + reply.xml));
    CHECK(reply.status >= 300);
  }

  SECTION("explicit v6udpv4 over TCP: 303") {
    TcpClient c(broker.port());
    tcp_hello(c);
    tcp_login_anonymous(c);
    TunnelRequestSpec spec;
    spec.type = "v6udpv4";
    const FramedReply reply = tcp_create(c, spec);
    INFO("reply: " << printable(reply.status_line + reply.xml));
    CHECK(reply.status == 303);
  }

  SECTION("v6anyv4 without NAT over TCP: v6v4") {
    TcpClient c(broker.port());
    tcp_hello(c);
    tcp_login_anonymous(c);
    CHECK(tcp_create_offer(c, {}).type == "v6v4");
    tcp_accept(c);
  }

  broker.stop_expect_clean_exit();
}

TEST_CASE("TCP: unsupported version and unknown mechanism", "[e2e][tcp]") {
  BrokerProcess broker;
  broker.start();
  {
    TcpClient c(broker.port());
    c.send(version_line("3.0.0"));
    CHECK(printable(c.read_reply()) == printable(kUnsupportedVersion));
  }
  {
    TcpClient c(broker.port());
    tcp_hello(c);
    c.send("AUTHENTICATE FOO\r\n");
    CHECK(printable(c.read_reply()) == printable(kAuthFailed));
  }
  require_fresh_sessions_work(broker.port());
  broker.stop_expect_clean_exit();
}

TEST_CASE("TCP: the connection held for a tunnel idles out once the tunnel is kicked", "[e2e][tcp]") {
  // gogoc keeps its TCP session open for the tunnel's life and sends nothing on it. Once the
  // tunnel is gone (kicked, deleted, expired, replaced) nothing holds the connection any more:
  // it idles out like an unfinished session instead of staying open for good.
  using namespace std::chrono_literals;
  BrokerSettings settings;
  settings.tsp_lines = {"session timeout 5"};
  BrokerProcess broker(settings);
  broker.start();
  TcpClient c(broker.port());
  tcp_hello(c);
  tcp_login_anonymous(c);
  const OfferFields offer = tcp_create_offer(c, {});
  tcp_accept(c);
  INFO("while the tunnel lives, the connection outlasts the session timeout");
  std::this_thread::sleep_for(6s);
  CHECK(c.try_send("\r\n", Millis{1000}));
  CHECK_FALSE(c.wait_closed_by_peer(Millis{500}));

  const auto kicked = broker.tspctl({"kick", offer.client_ipv6}, "");
  REQUIRE(kicked.exit_status == 0);
  INFO("kicked: the connection is closed within two session timeouts");
  CHECK(c.wait_closed_by_peer(Millis{11000}));
  broker.stop_expect_clean_exit();
}

}  // namespace tsp::e2e
