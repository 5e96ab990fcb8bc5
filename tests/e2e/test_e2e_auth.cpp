// Authentication as gogoc does it (tsp-protocol.md §2): users made with tspctl, PLAIN and
// DIGEST-MD5 over UDP and TCP, refusals, the mechanism list of the config.
#include <fstream>

#include <catch2/catch.hpp>

#include "tests/e2e/broker_process.hpp"
#include "tests/e2e/tsp_dialogs.hpp"

namespace tsp::e2e {
namespace {

constexpr const char* kUser = "alice";
constexpr const char* kPassword = "correct horse";

}  // namespace

TEST_CASE("tspctl user add: 0 for a new user, 2 for an existing one", "[e2e][auth]") {
  BrokerProcess broker;
  broker.add_user(kUser, kPassword);
  const CommandResult again = broker.tspctl({"user", "add", kUser}, "another password\n");
  INFO("tspctl said: " << again.output);
  CHECK(again.exit_status == 2);
  broker.start();
  RudpClient c(broker.port());
  udp_hello(c);
  INFO("the first password still holds");
  udp_login_plain(c, kUser, kPassword);
  broker.stop_expect_clean_exit();
}

TEST_CASE("PLAIN over UDP: header-only ack, then 200 or 300", "[e2e][auth][udp]") {
  BrokerProcess broker;
  broker.add_user(kUser, kPassword);
  broker.start();

  SECTION("right password, then a tunnel") {
    RudpClient c(broker.port());
    udp_hello(c);
    udp_login_plain(c, kUser, kPassword);
    udp_create_offer(c, {});
    udp_accept(c);
  }
  SECTION("wrong password or unknown user: 300 Authentication failed") {
    for (const auto& [user, password] : {std::pair{kUser, "wrong"}, std::pair{"nobody", kPassword}}) {
      INFO("user " << user);
      RudpClient c(broker.port());
      udp_hello(c);
      const RudpReply ack = c.request(authenticate_line("PLAIN"));
      CHECK(printable(ack.payload) == printable(""));
      CHECK(printable(c.request(plain_blob(user, password)).payload) == printable(kAuthFailed));
    }
  }
  require_fresh_sessions_work(broker.port());
  broker.stop_expect_clean_exit();
}

TEST_CASE("PLAIN over TCP: silence after AUTHENTICATE PLAIN, then the status", "[e2e][auth][tcp]") {
  BrokerProcess broker;
  broker.add_user(kUser, kPassword);
  broker.start();

  SECTION("in two segments, as gogoc was seen to send them") {
    TcpClient c(broker.port());
    tcp_hello(c);
    tcp_login_plain(c, kUser, kPassword);
    tcp_create_offer(c, {});
    tcp_accept(c);
  }
  SECTION("the line and the blob in one segment") {
    TcpClient c(broker.port());
    tcp_hello(c);
    c.send(authenticate_line("PLAIN") + plain_blob(kUser, kPassword));
    CHECK(printable(c.read_reply()) == printable(kSuccess));
  }
  SECTION("wrong password") {
    TcpClient c(broker.port());
    tcp_hello(c);
    c.send(authenticate_line("PLAIN"));
    CHECK(c.recv_once(kSilenceWindow).kind == TcpRead::Kind::Timeout);
    c.send(plain_blob(kUser, "wrong"));
    CHECK(printable(c.read_reply()) == printable(kAuthFailed));
  }
  broker.stop_expect_clean_exit();
}

TEST_CASE("DIGEST-MD5 over UDP: exact challenge, checked rspauth, 200 on the empty read", "[e2e][auth][udp]") {
  BrokerProcess broker;
  broker.add_user(kUser, kPassword);
  broker.start();

  SECTION("right password, then a router tunnel") {
    RudpClient c(broker.port());
    udp_hello(c);
    udp_login_digest(c, kUser, kPassword, broker.port());
    TunnelRequestSpec spec;
    spec.router_prefix_length = 64;
    CHECK(udp_create_offer(c, spec).prefix_length == "64");
    udp_accept(c);
  }
  SECTION("wrong password: 300 Authentication failed") {
    RudpClient c(broker.port());
    udp_hello(c);
    const DigestChallenge challenge = require_digest_challenge(c.request(authenticate_line("DIGEST-MD5")).payload);
    const DigestStep step = digest_step(challenge, kUser, "wrong", broker.port());
    CHECK(printable(c.request(step.message).payload) == printable(kAuthFailed));
  }
  SECTION("nonces are fresh per session and a response cannot be replayed") {
    RudpClient first(broker.port());
    udp_hello(first);
    const DigestChallenge first_challenge =
        require_digest_challenge(first.request(authenticate_line("DIGEST-MD5")).payload);
    const DigestStep first_step = digest_step(first_challenge, kUser, kPassword, broker.port());
    require_rspauth(first.request(first_step.message).payload, first_step);

    RudpClient second(broker.port());
    udp_hello(second);
    const DigestChallenge second_challenge =
        require_digest_challenge(second.request(authenticate_line("DIGEST-MD5")).payload);
    CHECK(second_challenge.nonce != first_challenge.nonce);
    INFO("the first session's response, replayed in the second");
    CHECK(printable(second.request(first_step.message).payload) == printable(kAuthFailed));
  }
  broker.stop_expect_clean_exit();
}

TEST_CASE("DIGEST-MD5 over TCP: rspauth alone, then 200 pushed by the daemon", "[e2e][auth][tcp]") {
  BrokerProcess broker;
  broker.add_user(kUser, kPassword);
  broker.start();

  SECTION("right password, then a /48 router tunnel") {
    TcpClient c(broker.port());
    tcp_hello(c);
    tcp_login_digest(c, kUser, kPassword, broker.port());
    TunnelRequestSpec spec;
    spec.router_prefix_length = 48;
    CHECK(tcp_create_offer(c, spec).prefix_length == "48");
    tcp_accept(c);
  }
  SECTION("wrong password: 300 Authentication failed") {
    TcpClient c(broker.port());
    tcp_hello(c);
    c.send(authenticate_line("DIGEST-MD5"));
    const DigestChallenge challenge = require_digest_challenge(c.read_reply());
    c.send(digest_step(challenge, kUser, "wrong", broker.port()).message);
    CHECK(printable(c.read_reply()) == printable(kAuthFailed));
  }
  broker.stop_expect_clean_exit();
}

TEST_CASE("Unknown mechanism over UDP: 300 Authentication failed", "[e2e][auth][udp]") {
  BrokerProcess broker;
  broker.start();
  RudpClient c(broker.port());
  udp_hello(c);
  CHECK(printable(c.request("AUTHENTICATE FOO\r\n").payload) == printable(kAuthFailed));
  require_fresh_sessions_work(broker.port());
  broker.stop_expect_clean_exit();
}

TEST_CASE("authentication statement: CAPABILITY in the written order, others refused", "[e2e][auth]") {
  BrokerSettings settings;
  settings.tsp_lines.push_back("authentication anonymous plain");
  BrokerProcess broker(settings);
  broker.add_user(kUser, kPassword);
  broker.start();

  RudpClient c(broker.port());
  CHECK(printable(c.request(version_line("2.0.2")).payload) ==
        printable("CAPABILITY TUNNEL=V6V4 TUNNEL=V6UDPV4 AUTH=ANONYMOUS AUTH=PLAIN\r\n"));
  INFO("a mechanism that is not offered is refused");
  CHECK(printable(c.request(authenticate_line("DIGEST-MD5")).payload) == printable(kAuthFailed));

  RudpClient plain(broker.port());
  udp_hello(plain);
  udp_login_plain(plain, kUser, kPassword);
  broker.stop_expect_clean_exit();
}

TEST_CASE("tspbrokerd --check-config", "[e2e][config]") {
  BrokerProcess broker;
  const std::string program = required_program("TSPBROKERD");
  const CommandResult good =
      run_command({program, "--check-config", "--config", broker.config_path()}, "", broker.dir() + "/check.out");
  INFO("output: " << good.output);
  CHECK(good.exit_status == 0);

  const std::string bad_path = broker.dir() + "/bad.conf";
  {
    std::ofstream bad(bad_path);
    bad << "ipv6 local pool P_Interco 2001:db8:f001:1::/64 128\n"
        << "ipv6 local pool P_Bad not-a-prefix 64\n";
  }
  const CommandResult bad = run_command({program, "--check-config", "--config", bad_path}, "", broker.dir() + "/check.out");
  INFO("output: " << bad.output);
  CHECK(bad.exit_status == 1);
  CHECK(bad.output.find(bad_path + ":2:") != std::string::npos);
}

}  // namespace tsp::e2e
