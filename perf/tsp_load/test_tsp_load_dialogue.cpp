// tsp_load's client dialogue against the broker's real session state machine (no sockets):
// every mix the load generator runs must reach a committed tunnel, and refusals must be
// reported by their status code.
#include <catch2/catch.hpp>
#include <set>

#include "control/framing.hpp"
#include "perf/tsp_load/client_dialogue.hpp"
#include "perf/tsp_load/load_runner.hpp"
#include "perf/tsp_load/load_stats.hpp"
#include "tests/unit/control_test_support.hpp"

namespace {

using namespace tsp;
using namespace tsp::load;

// Feeds each message of the dialogue to the session the way the runner's sockets would:
// UDP one datagram per message (empty = header-only), TCP a byte stream cut by the broker's
// splitter, where the broker's empty replies are not sent at all.
void drive(ClientDialogue& d, TspSession& session) {
  const bool udp = d.spec().transport == Transport::Udp;
  std::string msg = d.start();
  for (int round = 0; round < 20 && !d.done() && !d.failed(); ++round) {
    std::vector<std::string> replies;
    if (udp) {
      auto out = session.on_message(msg);
      REQUIRE(out.replies.size() == 1);
      replies.push_back(out.replies.front().payload);
    } else {
      TcpMessageSplitter splitter;
      splitter.append(msg);
      while (auto m = splitter.next()) {
        for (auto& r : session.on_message(*m).replies)
          if (!r.payload.empty()) replies.push_back(r.payload);
      }
      REQUIRE(splitter.error().empty());
      d.on_sent();
    }
    for (const auto& r : replies) d.on_reply(r);
    msg = d.next();
  }
}

ClientSpec spec_for(Transport t, AuthKind a, HostType h) {
  LoadPlan plan;
  plan.transports = {t};
  plan.auths = {a};
  plan.host_types = {h};
  plan.password = "secret";
  return client_spec(plan, 5);
}

Peer peer_of(const ClientSpec& spec) {
  return spec.transport == Transport::Udp ? test::udp_peer(spec.declared_ipv4) : test::tcp_peer(spec.declared_ipv4);
}

}  // namespace

TEST_CASE("every mix of the load generator reaches a committed tunnel", "[tsp_load]") {
  test::BrokerFixture fx;
  const auto transport = GENERATE(Transport::Udp, Transport::Tcp);
  const auto [auth, host] = GENERATE(std::pair{AuthKind::Anonymous, HostType::Host},
                                     std::pair{AuthKind::DigestMd5, HostType::Host},
                                     std::pair{AuthKind::DigestMd5, HostType::Router},
                                     std::pair{AuthKind::Plain, HostType::Host},
                                     std::pair{AuthKind::Plain, HostType::Router});
  const auto finish = GENERATE(TcpFinish::EchoConfirm, TcpFinish::AcceptSent);
  auto spec = spec_for(transport, auth, host);
  spec.tcp_finish = finish;
  if (auth != AuthKind::Anonymous) fx.add_user(spec.user, spec.password);
  ClientDialogue d(spec);
  TspSession session(fx.env(), peer_of(spec));
  drive(d, session);
  INFO(group_name(group_of(spec)) << " " << d.failure_text());
  REQUIRE(d.done());
  CHECK_FALSE(d.failed());
  CHECK(session.tunnel_established());
  CHECK(fx.service().live_tunnels() == 1);
  const auto tunnels = fx.service().tunnels();
  REQUIRE(tunnels.size() == 1);
  CHECK(tunnels.front().client_v4.to_string() == spec.declared_ipv4);
  CHECK(tunnels.front().prefix.has_value() == (host == HostType::Router));
}

TEST_CASE("a wrong password is reported as status 300", "[tsp_load]") {
  test::BrokerFixture fx;
  const auto transport = GENERATE(Transport::Udp, Transport::Tcp);
  const auto auth = GENERATE(AuthKind::DigestMd5, AuthKind::Plain);
  auto spec = spec_for(transport, auth, HostType::Host);
  fx.add_user(spec.user, "another password");
  ClientDialogue d(spec);
  TspSession session(fx.env(), peer_of(spec));
  drive(d, session);
  CHECK(d.failed());
  CHECK(d.failure() == FailureKind::Status);
  CHECK(d.status() == 300);
  CHECK(fx.service().live_tunnels() == 0);
}

TEST_CASE("a v6v4 request from behind a NAT is refused with its status", "[tsp_load]") {
  test::BrokerFixture fx;
  LoadPlan plan;
  plan.tunnel_type = "v6v4";
  plan.behind_nat = true;
  const auto spec = client_spec(plan, 0);
  CHECK(spec.declared_ipv4 == "10.0.0.0");
  ClientDialogue d(spec);
  TspSession session(fx.env(), test::udp_peer("127.16.0.0"));
  drive(d, session);
  CHECK(d.failure() == FailureKind::Status);
  CHECK(d.status() == 303);
}

TEST_CASE("an anonymous client never asks for a router prefix", "[tsp_load]") {
  ClientSpec spec;
  spec.auth = AuthKind::Anonymous;
  spec.host_type = HostType::Router;
  CHECK_THROWS_AS(ClientDialogue(spec), std::invalid_argument);
}

TEST_CASE("the mix cycles transports, then auths, then host types, each client from its own address",
          "[tsp_load]") {
  LoadPlan plan;
  plan.transports = {Transport::Udp, Transport::Tcp};
  plan.auths = {AuthKind::DigestMd5, AuthKind::Anonymous};
  plan.host_types = {HostType::Host, HostType::Router};
  plan.first_index = 1000;
  std::map<GroupKey, int> groups;
  std::set<std::string> sources, users;
  for (size_t i = 0; i < 800; ++i) {
    const auto spec = client_spec(plan, i);
    ++groups[group_of(spec)];
    sources.insert(spec.declared_ipv4);
    if (spec.auth == AuthKind::DigestMd5) users.insert(spec.user);
    if (spec.auth == AuthKind::Anonymous) CHECK(spec.host_type == HostType::Host);
  }
  CHECK(groups.size() == 6);  // anonymous routers fold into anonymous hosts
  CHECK(groups[{Transport::Udp, AuthKind::DigestMd5, HostType::Host}] == 100);
  CHECK(groups[{Transport::Tcp, AuthKind::DigestMd5, HostType::Router}] == 100);
  CHECK(groups[{Transport::Udp, AuthKind::Anonymous, HostType::Host}] == 200);
  CHECK(sources.size() == 800);
  CHECK(users.size() == 400);
  CHECK(client_spec(plan, 0).declared_ipv4 == "127.16.3.232");  // 127.16.0.0 + 1000
  CHECK(client_spec(plan, 0).user == "load1000");
}

TEST_CASE("the reply splitter cuts lines and Content-length frames out of a stream", "[tsp_load]") {
  ReplySplitter s;
  std::string msg;
  s.append("cmVhbG09Inggn==\r\n200 Succ");
  REQUIRE(s.next(msg));
  CHECK(msg == "cmVhbG09Inggn==\r\n");
  CHECK_FALSE(s.next(msg));
  s.append("ess\r\nContent-length: 14\r\n200 Success\r\n");
  REQUIRE(s.next(msg));
  CHECK(msg == "200 Success\r\n");
  CHECK_FALSE(s.next(msg));  // one byte of the frame is missing
  s.append("X");
  REQUIRE(s.next(msg));
  CHECK(msg == "Content-length: 14\r\n200 Success\r\nX");
  CHECK(s.error().empty());

  ReplySplitter bad;
  bad.append("Content-length: lots\r\n");
  CHECK_FALSE(bad.next(msg));
  CHECK_FALSE(bad.error().empty());
}

TEST_CASE("latency percentiles use the nearest rank", "[tsp_load]") {
  std::vector<uint32_t> us;
  for (uint32_t i = 1; i <= 100; ++i) us.push_back(i * 1000);
  CHECK(percentile_ms(us, 50) == Approx(50.0));
  CHECK(percentile_ms(us, 99) == Approx(99.0));
  CHECK(percentile_ms(us, 100) == Approx(100.0));
  CHECK(percentile_ms({}, 50) == 0.0);
  CHECK(leading_status("530 Server too busy\r\n") == 530);
  CHECK(leading_status("CAPABILITY") == -1);
}
