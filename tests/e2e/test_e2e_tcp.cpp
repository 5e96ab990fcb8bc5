// TSP over TCP as gogoc speaks it (tsp-protocol.md §1.4, §5.4): one recv() per reply, no
// answer to the accept, v6udpv4 never offered on a TCP session.
#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/e2e/broker_process.hpp"
#include "tests/e2e/e2e_metrics.hpp"
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

// gogoc keeps its TCP session open for the tunnel's life and sends nothing on it. Once the
// tunnel is gone by anything but the client's own delete, the broker closes the connection at
// once: the one signal a TCP client gets, and no connection stays open for a tunnel that no
// longer exists. The session timeout is long here, so an idle-out could not pass for it.
TEST_CASE("TCP: the connection held for a tunnel closes at once when the tunnel is kicked", "[e2e][tcp]") {
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
  INFO("kicked: the connection is closed within a second, not at the next idle check");
  CHECK(c.wait_closed_by_peer(Millis{1000}));
  CHECK(broker.log_shows("no longer forwards and this session did not delete it; closing"));
  broker.stop_expect_clean_exit();
}

TEST_CASE("TCP: a user's tunnel replaced from another connection closes the first one only", "[e2e][tcp]") {
  BrokerSettings settings;
  settings.tsp_lines = {"session timeout 60"};
  BrokerProcess broker(settings);
  broker.add_user("alice", "s3cret-pw");
  broker.start();
  TcpClient first(broker.port());
  tcp_hello(first);
  tcp_login_plain(first, "alice", "s3cret-pw");
  const OfferFields before = tcp_create_offer(first, {});
  tcp_accept(first);

  TcpClient second(broker.port());
  tcp_hello(second);
  tcp_login_plain(second, "alice", "s3cret-pw");
  const OfferFields after = tcp_create_offer(second, {});
  CHECK(after.client_ipv6 == before.client_ipv6);  // a registered user keeps its address
  CHECK_FALSE(first.wait_closed_by_peer(Millis{300}));  // the offer alone replaces nothing
  tcp_accept(second);
  INFO("the first connection's tunnel is replaced: it closes; the second holds the new one");
  CHECK(first.wait_closed_by_peer(Millis{1000}));
  CHECK_FALSE(second.wait_closed_by_peer(Millis{1000}));

  SECTION("the user deleted: the second closes too") {
    REQUIRE(broker.tspctl({"user", "del", "alice"}, "").exit_status == 0);
    CHECK(second.wait_closed_by_peer(Millis{1000}));
  }
  SECTION("the client's own delete keeps its connection, and it may ask again on it") {
    second.send(content_length_frame("<tunnel action=\"delete\"></tunnel>\r\n"));
    const FramedReply deleted = require_framed(second.read_reply());
    CHECK(deleted.status == 200);
    CHECK_FALSE(second.wait_closed_by_peer(Millis{1000}));
    CHECK(tcp_create_offer(second, {}).client_ipv6 == before.client_ipv6);
    tcp_accept(second);
    CHECK_FALSE(second.wait_closed_by_peer(Millis{500}));
  }
  broker.stop_expect_clean_exit();
}

// A user deleted while logged in without a tunnel: their sessions end at once, over TCP (the
// connection closes) and UDP (the session is gone: silence), others' sessions carry on.
TEST_CASE("a deleted user's sessions that hold no tunnel end at once", "[e2e][tcp][udp]") {
  const uint16_t metrics_port = pick_free_port();
  BrokerSettings settings;
  settings.tsp_lines = {"session timeout 60"};
  settings.global_lines = {"metrics listen 127.0.0.1 " + std::to_string(metrics_port)};
  BrokerProcess broker(settings);
  broker.add_user("alice", "s3cret-pw");
  broker.add_user("bob", "b0b-pw");
  broker.start();

  TcpClient alice_tcp(broker.port());
  tcp_hello(alice_tcp);
  tcp_login_plain(alice_tcp, "alice", "s3cret-pw");
  RudpClient alice_udp(broker.port(), "127.0.0.2");
  udp_hello(alice_udp);
  udp_login_plain(alice_udp, "alice", "s3cret-pw");
  TcpClient bob_tcp(broker.port());
  tcp_hello(bob_tcp);
  tcp_login_plain(bob_tcp, "bob", "b0b-pw");
  TcpClient anonymous(broker.port());
  tcp_hello(anonymous);
  tcp_login_anonymous(anonymous);

  REQUIRE(broker.tspctl({"user", "del", "alice"}, "").exit_status == 0);
  CHECK(alice_tcp.wait_closed_by_peer(Millis{1000}));
  CHECK(broker.log_shows("user 'alice' deleted; closing"));
  CHECK(broker.log_shows("udp: 1 session(s) of deleted user 'alice' ended"));
  {
    INFO("the UDP session is gone: its next request gets no answer");
    alice_udp.send(create_request({}));
    CHECK_FALSE(alice_udp.wait_reply(Millis{500}).has_value());
  }
  INFO("the others carry on");
  CHECK_FALSE(bob_tcp.wait_closed_by_peer(Millis{300}));
  CHECK_FALSE(anonymous.wait_closed_by_peer(Millis{100}));
  CHECK(tcp_create_offer(bob_tcp, {}).type == "v6v4");
  CHECK(tcp_create_offer(anonymous, {}).type == "v6v4");
  const std::string text = scrape_metrics(metrics_port);
  CHECK(metric_sample(text, "tspbroker_tsp_tcp_closed_total{reason=\"user_deleted\"}") == 1);
  broker.stop_expect_clean_exit();
}

}  // namespace tsp::e2e
