// The control plane's counters as real TSP sessions bump them (SessionEnv::counters): session
// outcomes, refusals by status code, authentications by mechanism and result.
#include <catch2/catch.hpp>

#include <string>

#include "control/metrics/control_counters.hpp"
#include "control/xml/tunnel_xml.hpp"
#include "tests/unit/control_test_support.hpp"

using namespace tsp;
using namespace tsp::test;
using metrics::AuthResult;
using metrics::ControlCounters;
using metrics::SessionResult;
using Mech = config::AuthMechanism;

namespace {

constexpr const char* kPublicV4 = "198.51.100.7";

// A fixture whose sessions count into `counters`.
struct CountingBroker {
  explicit CountingBroker(const ConfigText& text = {}) : fx(text) {
    fx.env().counters = &counters;
    fx.add_user("bob", "pa55word");
  }
  ControlCounters counters;
  BrokerFixture fx;
};

std::string plain_blob(const std::string& user, const std::string& password) {
  std::string blob;
  blob += '\0';
  blob += user;
  blob += '\0';
  blob += password;
  blob += "\r\n";
  return blob;
}

uint64_t all_sessions(const ControlCounters& c) {
  uint64_t sum = 0;
  for (size_t i = 0; i < metrics::kSessionResultCount; ++i) sum += c.sessions(static_cast<SessionResult>(i));
  return sum;
}

}  // namespace

TEST_CASE("a fresh counter set reads zero everywhere", "[metrics][counters]") {
  const ControlCounters c;
  CHECK(all_sessions(c) == 0);
  for (auto s : metrics::kRefusalStatuses) CHECK(c.refusals(s) == 0);
  for (auto m : metrics::kAuthMechanisms) {
    CHECK(c.authentications(m, AuthResult::success) == 0);
    CHECK(c.authentications(m, AuthResult::failure) == 0);
  }
}

TEST_CASE("a refusal counts once as a session result and once under its code", "[metrics][counters]") {
  ControlCounters c;
  c.refused(Status::NoMoreTunnels);
  c.refused(Status::NoMoreTunnels);
  c.refused(Status::ServerTooBusy);
  c.refused(Status::Success);  // not a refusal code: kept apart rather than lost
  CHECK(c.sessions(SessionResult::refused) == 4);
  CHECK(c.refusals(Status::NoMoreTunnels) == 2);
  CHECK(c.refusals(Status::ServerTooBusy) == 1);
  CHECK(c.refusals(Status::AuthenticationFailed) == 0);
  CHECK(c.refused_other() == 1);
}

TEST_CASE("label names of results and mechanisms", "[metrics][counters]") {
  CHECK(metrics::session_result_name(SessionResult::accepted) == "accepted");
  CHECK(metrics::session_result_name(SessionResult::timeout) == "timeout");
  CHECK(metrics::auth_mechanism_name(Mech::DigestMd5) == "digest-md5");
  CHECK(metrics::auth_mechanism_name(Mech::Plain) == "plain");
  CHECK(metrics::auth_mechanism_name(Mech::Anonymous) == "anonymous");
}

TEST_CASE("accepted tunnels count per session and per mechanism", "[metrics][counters][session]") {
  CountingBroker b;
  TestClient anon(b.fx, udp_peer("198.51.100.1"));
  anon.anonymous_tunnel(host_request("198.51.100.1"));
  TestClient digest(b.fx, tcp_peer("198.51.100.2"));
  digest.digest_tunnel("bob", "pa55word", host_request("198.51.100.2"));

  CHECK(b.counters.sessions(SessionResult::accepted) == 2);
  CHECK(all_sessions(b.counters) == 2);
  CHECK(b.counters.authentications(Mech::Anonymous, AuthResult::success) == 1);
  CHECK(b.counters.authentications(Mech::DigestMd5, AuthResult::success) == 1);
  CHECK(b.counters.authentications(Mech::Plain, AuthResult::success) == 0);
}

TEST_CASE("authentication failures count per mechanism and as refusals with 300", "[metrics][counters][auth]") {
  CountingBroker b;
  const bool udp = GENERATE(true, false);
  TestClient client(b.fx, udp ? udp_peer(kPublicV4) : tcp_peer(kPublicV4));
  client.hello();

  SECTION("PLAIN with a wrong password, then the right one") {
    client.send("AUTHENTICATE PLAIN\r\n");
    CHECK(client.exchange(plain_blob("bob", "wrong")) == "300 Authentication failed\r\n");
    client.login_plain("bob", "pa55word");
    CHECK(b.counters.authentications(Mech::Plain, AuthResult::failure) == 1);
    CHECK(b.counters.authentications(Mech::Plain, AuthResult::success) == 1);
    CHECK(b.counters.refusals(Status::AuthenticationFailed) == 1);
    CHECK(b.counters.sessions(SessionResult::refused) == 1);
  }
  SECTION("DIGEST-MD5 with a wrong password") {
    const auto challenge = client.exchange("AUTHENTICATE DIGEST-MD5\r\n");
    CHECK(challenge.size() > 10);
    CHECK(client.exchange("bm90IGEgcmVzcG9uc2U=\r\n") == "300 Authentication failed\r\n");
    CHECK(b.counters.authentications(Mech::DigestMd5, AuthResult::failure) == 1);
    CHECK(b.counters.refusals(Status::AuthenticationFailed) == 1);
  }
  SECTION("a mechanism nobody offers is a refusal, but no mechanism's failure") {
    CHECK(client.exchange("AUTHENTICATE KERBEROS\r\n") == "300 Authentication failed\r\n");
    CHECK(b.counters.refusals(Status::AuthenticationFailed) == 1);
    for (auto m : metrics::kAuthMechanisms) CHECK(b.counters.authentications(m, AuthResult::failure) == 0);
  }
}

TEST_CASE("refused creates count under their status code", "[metrics][counters][refusal]") {
  CountingBroker b;
  TestClient client(b.fx, udp_peer(kPublicV4));
  client.hello();
  client.login_anonymous();
  CHECK(client.create(router_request(kPublicV4, 64)) == framed_reply("522 Prefix requested by anonymous client\r\n"));
  CHECK(b.counters.refusals(Status::PrefixForAnonymous) == 1);
  CHECK(b.counters.sessions(SessionResult::refused) == 1);
  CHECK(b.counters.sessions(SessionResult::accepted) == 0);
}

TEST_CASE("unsupported versions and messages before VERSION are refusals", "[metrics][counters][refusal]") {
  CountingBroker b;
  TestClient client(b.fx, udp_peer(kPublicV4));
  CHECK(client.exchange("VERSION=3.0.0\r\n") == "302 Unsupported client version\r\n");
  CHECK(b.counters.refusals(Status::UnsupportedVersion) == 1);
  TestClient early(b.fx, udp_peer("198.51.100.8"));
  const auto out = early.send("AUTHENTICATE ANONYMOUS\r\n");
  CHECK(out.close);
  CHECK(b.counters.refusals(Status::InvalidRequest) == 1);
  CHECK(b.counters.sessions(SessionResult::refused) == 2);
}

TEST_CASE("a rejected offer and a redirect are counted as such", "[metrics][counters][session]") {
  ConfigText text;
  text.endpoints = "2001:db8:f001:1::/126";  // room for two clients
  text.redirect_brokers = {"192.0.2.9"};
  CountingBroker b(text);

  TestClient rejecting(b.fx, udp_peer("198.51.100.1"));
  rejecting.hello();
  rejecting.login_anonymous();
  rejecting.create_ok(host_request("198.51.100.1"));
  rejecting.send(kRejectMessage);
  CHECK(b.counters.sessions(SessionResult::rejected) == 1);

  TestClient first(b.fx, udp_peer("198.51.100.2"));
  first.anonymous_tunnel(host_request("198.51.100.2"));
  TestClient second(b.fx, udp_peer("198.51.100.3"));
  second.anonymous_tunnel(host_request("198.51.100.3"));
  TestClient third(b.fx, udp_peer("198.51.100.4"));
  third.hello();
  third.login_anonymous();
  const auto reply = third.create(host_request("198.51.100.4"));
  CHECK(reply.find("1200 Redirection") != std::string::npos);
  CHECK(b.counters.sessions(SessionResult::redirected) == 1);
  CHECK(b.counters.sessions(SessionResult::accepted) == 2);
  CHECK(b.counters.sessions(SessionResult::refused) == 0);
}
