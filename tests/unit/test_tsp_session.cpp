// The TSP session state machine without sockets: what a gogoc client sends, byte for byte, and
// what it must get back (tsp-protocol.md §1-§7). UDP and TCP differ only where the spec says.
#include <catch2/catch.hpp>

#include <chrono>
#include <atomic>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <string>
#include <string_view>
#include <vector>

#include "control/auth/base64.hpp"
#include "control/auth/digest_md5_client.hpp"
#include "control/auth/make_credentials.hpp"
#include "control/auth/scram_client.hpp"
#include "control/password_checker.hpp"
#include "tests/unit/control_test_support.hpp"

using namespace tsp;
using namespace tsp::test;
using namespace std::string_literals;

namespace {

constexpr std::string_view kFullCapability =
    "CAPABILITY TUNNEL=V6V4 TUNNEL=V6UDPV4 AUTH=DIGEST-MD5 AUTH=PLAIN AUTH=ANONYMOUS\r\n";
constexpr std::string_view kSuccess = "200 Success\r\n";
constexpr std::string_view kAuthFailed = "300 Authentication failed\r\n";

// The client's private address behind a NAT, and the NAT's public one (§3.5 (a)).
constexpr const char* kPrivateV4 = "192.168.1.10";
constexpr const char* kPublicV4 = "198.51.100.7";

Peer peer_for(bool udp, const char* addr = kPublicV4) { return udp ? udp_peer(addr) : tcp_peer(addr); }

std::string with_nul(std::string_view line) { return std::string(line) + '\0'; }

// Raw request XML, for what write_request_xml refuses to produce.
std::string raw_create(std::string_view type, std::string_view client_inner) {
  return "<tunnel action=\"create\" type=\"" + std::string(type) + "\" proxy=\"no\">\r\n <client>\r\n" +
         std::string(client_inner) + " </client>\r\n</tunnel>\r\n";
}

std::string decoded(const std::string& base64_line) {
  auto text = auth::base64_decode(base64_line);
  REQUIRE(text.has_value());
  return *text;
}

// Starts a DIGEST-MD5 exchange; returns the decoded challenge.
std::string digest_challenge(TestClient& client) {
  const auto line = client.exchange(client.peer().udp ? with_nul("AUTHENTICATE DIGEST-MD5\r\n")
                                                      : "AUTHENTICATE DIGEST-MD5\r\n"s);
  REQUIRE(line.size() > 2);
  CHECK(line.substr(line.size() - 2) == "\r\n");
  // gogoc atoi()s every reply first: starting with realm= keeps digits out of the front (§2.4).
  CHECK(line.substr(0, 4) == "cmVh");
  return decoded(line);
}

// The base64 response line gogoc would send for `challenge`.
std::string digest_response_line(std::string_view challenge, const std::string& user, const std::string& password,
                                 const std::string& cnonce = "1700000000") {
  auto response = auth::digest_md5_client_response(challenge, user, password, "192.0.2.1:3653", cnonce);
  REQUIRE(std::holds_alternative<std::string>(response));
  return auth::base64_encode(std::get<std::string>(response)) + "\r\n";
}

}  // namespace

// ---- Version and capability (§1.6, §1.7) ---------------------------------------------------

TEST_CASE("every version gogoc knows gets the exact CAPABILITY line", "[session][version]") {
  BrokerFixture fx;
  const bool udp = GENERATE(true, false);
  const std::string version = GENERATE(as<std::string>{}, "2.0.2", "2.0.1", "2.0.0", "1.0.1");
  INFO((udp ? "udp " : "tcp ") << version);
  TestClient client(fx, peer_for(udp));
  CHECK(client.exchange("VERSION=" + version + "\r\n") == kFullCapability);
  CHECK(client.session().state_name() == "expect-auth");
}

TEST_CASE("CAPABILITY follows the configured transports and mechanism order", "[session][version]") {
  ConfigText text;
  text.udp = false;  // no UDP listener: v6udpv4 cannot be offered
  text.auth = "anonymous digest-md5";
  BrokerFixture fx(text);
  TestClient client(fx, tcp_peer(kPublicV4));
  CHECK(client.exchange("VERSION=2.0.2\r\n") == "CAPABILITY TUNNEL=V6V4 AUTH=ANONYMOUS AUTH=DIGEST-MD5\r\n");
}

TEST_CASE("unsupported versions get 302 and the session keeps waiting for VERSION", "[session][version]") {
  BrokerFixture fx;
  const bool udp = GENERATE(true, false);
  const std::string version = GENERATE(as<std::string>{}, "3.0.0", "abc", "", "2.0", "2.1.0", "1.0.1x");
  INFO((udp ? "udp " : "tcp ") << "VERSION=" << version);
  TestClient client(fx, peer_for(udp));
  CHECK(client.exchange("VERSION=" + version + "\r\n") == "302 Unsupported client version\r\n");
  CHECK(client.session().state_name() == "expect-version");
  // gogoc's fallback: the next older version (on a new socket; the session copes either way).
  CHECK(client.exchange("VERSION=2.0.1\r\n") == kFullCapability);
}

TEST_CASE("a message before VERSION gets 500 and closes the session", "[session][version]") {
  BrokerFixture fx;
  const bool udp = GENERATE(true, false);
  TestClient client(fx, peer_for(udp));
  SECTION("an AUTHENTICATE line") {
    const auto out = client.send(with_nul("AUTHENTICATE ANONYMOUS\r\n"));
    REQUIRE(out.replies.size() == 1);
    CHECK(out.replies[0].payload == "500 Invalid request format\r\n");
    CHECK(out.close);
  }
  SECTION("a framed create request") {
    const auto out = client.send(client_framed(xml::write_request_xml(host_request(kPublicV4))));
    REQUIRE(out.replies.size() == 1);
    CHECK(out.replies[0].payload == "500 Invalid request format\r\n");
    CHECK(out.close);
  }
}

TEST_CASE("ECHO REQUEST gets 200 in every state and changes nothing", "[session][echo]") {
  BrokerFixture fx;
  const bool udp = GENERATE(true, false);
  TestClient client(fx, peer_for(udp, "203.0.113.20"));
  // gogoc's broker-distance probe is 12 bytes without CRLF (§6); accept it with one as well.
  const std::string probe = GENERATE("ECHO REQUEST"s, "ECHO REQUEST\r\n"s);
  auto echo_in_state = [&](std::string_view state) {
    INFO("state " << state);
    CHECK(client.session().state_name() == state);
    CHECK(client.exchange(probe) == kSuccess);
    CHECK(client.session().state_name() == state);
  };
  echo_in_state("expect-version");
  client.hello();
  echo_in_state("expect-auth");
  client.login_anonymous();
  echo_in_state("authenticated");
  client.create_ok(host_request("203.0.113.20"));
  echo_in_state("offered");
  client.accept();
  echo_in_state("established");
}

// ---- Authentication (§2) -----------------------------------------------------------------

TEST_CASE("ANONYMOUS authenticates with 200 over UDP and TCP", "[session][auth]") {
  BrokerFixture fx;
  const bool udp = GENERATE(true, false);
  TestClient client(fx, peer_for(udp));
  client.hello();
  CHECK(client.exchange(udp ? with_nul("AUTHENTICATE ANONYMOUS\r\n") : "AUTHENTICATE ANONYMOUS\r\n"s) == kSuccess);
  CHECK(client.session().state_name() == "authenticated");
}

TEST_CASE("PLAIN: UDP acknowledges with an empty reply, TCP stays silent, then 200 or 300", "[session][auth][plain]") {
  BrokerFixture fx;
  fx.add_user("alice", "s3cret");
  fx.add_user("mallory", "s3cret", false);
  const bool udp = GENERATE(true, false);
  INFO((udp ? "udp" : "tcp"));
  TestClient client(fx, peer_for(udp));
  client.hello();

  auto start_plain = [&] {
    const auto ack = client.send(udp ? with_nul("AUTHENTICATE PLAIN\r\n") : "AUTHENTICATE PLAIN\r\n"s);
    if (udp) {
      REQUIRE(ack.replies.size() == 1);
      CHECK(ack.replies[0].payload.empty());  // header-only datagram (§2.3)
    } else {
      CHECK(ack.replies.empty());
    }
    CHECK_FALSE(ack.close);
  };

  SECTION("gogoc's blob: empty authzid, two NULs") {
    start_plain();
    CHECK(client.exchange("\0alice\0s3cret\r\n"s) == kSuccess);
    CHECK(client.session().state_name() == "authenticated");
  }
  SECTION("one NUL: the TCP splitter took the first as the line's terminator") {
    start_plain();
    CHECK(client.exchange("alice\0s3cret\r\n"s) == kSuccess);
    CHECK(client.session().state_name() == "authenticated");
  }
  SECTION("authzid equal to the user") {
    start_plain();
    CHECK(client.exchange("alice\0alice\0s3cret\r\n"s) == kSuccess);
  }
  SECTION("refusals go back to expecting AUTHENTICATE") {
    const std::string bad = GENERATE("\0alice\0wrong\r\n"s,     // wrong password
                                     "\0mallory\0s3cret\r\n"s,  // disabled user
                                     "\0nobody\0s3cret\r\n"s,   // unknown user
                                     "\0alice\0\r\n"s,          // empty password
                                     "bob\0alice\0s3cret\r\n"s,  // authzid of somebody else
                                     "alice s3cret\r\n"s);      // no NUL at all
    start_plain();
    CHECK(client.exchange(bad) == kAuthFailed);
    CHECK(client.session().state_name() == "expect-auth");
    start_plain();
    CHECK(client.exchange("\0alice\0s3cret\r\n"s) == kSuccess);
  }
}

TEST_CASE("PLAIN with a password checker: the check leaves the session and its verdict answers", "[session][auth][plain]") {
  BrokerFixture fx;
  fx.add_user("alice", "s3cret");
  PasswordChecker checker(1, 4);
  fx.env().password_checker = &checker;
  metrics::ControlCounters counters;
  fx.env().counters = &counters;
  const bool udp = GENERATE(true, false);
  INFO((udp ? "udp" : "tcp"));
  TestClient client(fx, peer_for(udp));
  client.hello();
  // The blob's output: no reply, a check instead.
  auto plain = [&](const std::string& blob) {
    client.send(udp ? with_nul("AUTHENTICATE PLAIN\r\n") : "AUTHENTICATE PLAIN\r\n"s);
    auto out = client.send(blob);
    CHECK(out.replies.empty());
    CHECK_FALSE(out.close);
    REQUIRE(out.password_check);
    CHECK(client.session().state_name() == "plain-checking");
    CHECK(client.session().awaiting_password_check());
    return std::move(*out.password_check);
  };

  SECTION("the checker's verdict, as the servers pass it on") {
    PasswordCheck check = plain("\0alice\0s3cret\r\n"s);
    CHECK(check.password == "s3cret");
    CHECK_FALSE(check.trusted);  // alice never proved her password from here
    // Meanwhile messages get nothing (UDP: a second datagram; TCP: the server holds them).
    CHECK(client.send("Content-length: 0\r\n"s).replies.empty());
    const uint64_t ticket = check.ticket;
    std::promise<PasswordVerdict> verdict;
    checker.submit(std::move(check), [&](PasswordVerdict v) { verdict.set_value(v); });
    const PasswordVerdict v = verdict.get_future().get();
    CHECK(v == PasswordVerdict::Right);
    const auto out = client.session().on_password_checked(ticket, v);
    REQUIRE(out.replies.size() == 1);
    CHECK(out.replies[0].payload == kSuccess);
    CHECK(client.session().state_name() == "authenticated");
    CHECK(counters.authentications(config::AuthMechanism::Plain, metrics::AuthResult::success) == 1);
    // A verdict delivered twice answers once.
    CHECK(client.session().on_password_checked(ticket, PasswordVerdict::Right).replies.empty());

    // Now this address is one of alice's trusted sources: her next check goes in the trusted
    // lane; not a stranger's, nor one from another address.
    CHECK(client.exchange("VERSION=2.0.2\r\n") == kFullCapability);
    const PasswordCheck again = plain("\0alice\0anything\r\n"s);
    CHECK(again.trusted);
    CHECK(client.session().on_password_checked(again.ticket, PasswordVerdict::Wrong).replies.at(0).payload ==
          kAuthFailed);
    CHECK_FALSE(plain("\0nobody\0s3cret\r\n"s).trusted);
    TestClient elsewhere(fx, peer_for(udp, "198.51.100.99"));
    elsewhere.hello();
    elsewhere.send(udp ? with_nul("AUTHENTICATE PLAIN\r\n") : "AUTHENTICATE PLAIN\r\n"s);
    const auto out_elsewhere = elsewhere.send("\0alice\0s3cret\r\n"s);
    REQUIRE(out_elsewhere.password_check);
    CHECK_FALSE(out_elsewhere.password_check->trusted);
  }
  SECTION("a verdict for a session that started over is dropped") {
    const PasswordCheck check = plain("\0alice\0s3cret\r\n"s);
    CHECK(client.exchange("VERSION=2.0.2\r\n") == kFullCapability);
    CHECK(client.session().on_password_checked(check.ticket, PasswordVerdict::Right).replies.empty());
    CHECK(client.session().state_name() == "expect-auth");
    // The next check has a ticket of its own; the old one does not answer it.
    const PasswordCheck next = plain("\0alice\0s3cret\r\n"s);
    CHECK(next.ticket != check.ticket);
    CHECK(client.session().on_password_checked(check.ticket, PasswordVerdict::Right).replies.empty());
    CHECK(client.session().on_password_checked(next.ticket, PasswordVerdict::Right).replies.at(0).payload == kSuccess);
  }
  SECTION("a full checker: 300, counted busy, not a failure toward the lockout") {
    const PasswordCheck check = plain("\0alice\0s3cret\r\n"s);
    const auto out = client.session().on_password_checked(check.ticket, PasswordVerdict::Unchecked);
    CHECK(out.replies.at(0).payload == kAuthFailed);
    CHECK_FALSE(out.close);
    CHECK(client.session().state_name() == "expect-auth");
    CHECK(counters.authentications(config::AuthMechanism::Plain, metrics::AuthResult::busy) == 1);
    CHECK(counters.authentications(config::AuthMechanism::Plain, metrics::AuthResult::failure) == 0);
    CHECK(fx.lockout().tracked() == 0);
  }
  SECTION("an unknown user costs the same check, against a decoy no verdict can pass") {
    const PasswordCheck check = plain("\0nobody\0s3cret\r\n"s);
    CHECK(check.credentials.scram_iterations == auth::kScramIterations);
    CHECK(check.credentials.scram_salt.size() == auth::kScramSaltBytes);
    CHECK_FALSE(auth::verify_password(check.credentials, "s3cret"));
    // Even a (wrong) Right from the server does not let a name that is not a user in.
    CHECK(client.session().on_password_checked(check.ticket, PasswordVerdict::Right).replies.at(0).payload ==
          kAuthFailed);
    CHECK(fx.lockout().tracked() == 1);
    CHECK(counters.authentications(config::AuthMechanism::Plain, metrics::AuthResult::failure) == 1);
  }
}

TEST_CASE("the password checker: verdicts, a bounded queue, unstarted checks dropped at the end", "[auth][checker]") {
  const StoredCredentials alice = auth::make_credentials("alice", "r", "s3cret");
  auto check_of = [&](std::string password) { return PasswordCheck{0, alice, std::move(password)}; };
  std::atomic<int> verdicts{0}, right{0};
  auto count = [&](PasswordVerdict v) { right += v == PasswordVerdict::Right, ++verdicts; };
  {
    PasswordChecker checker(1, 2);
    // The first check holds the only thread until the checker's end has emptied the queue
    // (nothing else empties it: its one thread is here); two wait; a third is refused.
    std::promise<void> first_running;
    std::atomic<bool> filled{false};
    checker.submit(check_of("s3cret"), [&](PasswordVerdict v) {
      count(v);
      first_running.set_value();
      while (!filled || checker.queued() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    });
    first_running.get_future().wait();
    checker.submit(check_of("wrong"), count);
    checker.submit(check_of("s3cret"), count);
    CHECK(checker.queued() == 2);
    std::atomic<int> refused{-1};
    checker.submit(check_of("s3cret"), [&](PasswordVerdict v) { refused = static_cast<int>(v); });
    CHECK(refused == static_cast<int>(PasswordVerdict::Unchecked));  // at once, on this thread
    const PasswordChecker::Load load = checker.load();
    CHECK(load.queued == 2);
    CHECK(load.running == 1);
    CHECK(load.capacity == 2);
    filled = true;
  }  // drops the two waiting checks, then joins the running one
  CHECK(verdicts == 1);
  CHECK(right == 1);

  {
    // Two lanes, each bounded: with the other lane full, a trusted check still waits, and the
    // thread takes it before the other lane's.
    PasswordChecker checker(1, 1);
    std::promise<void> running, release;
    auto release_future = release.get_future();
    checker.submit(check_of("s3cret"), [&](PasswordVerdict) {
      running.set_value();
      release_future.wait();
    });
    running.get_future().wait();
    std::mutex order_mutex;
    std::vector<std::string> order;
    std::promise<void> both_done;
    auto note = [&](std::string who) {
      return [&, who](PasswordVerdict) {
        std::lock_guard lock(order_mutex);
        order.push_back(who);
        if (order.size() == 2) both_done.set_value();
      };
    };
    checker.submit(check_of("wrong"), note("other"));
    std::atomic<int> refused{-1};
    checker.submit(check_of("s3cret"), [&](PasswordVerdict v) { refused = static_cast<int>(v); });
    CHECK(refused == static_cast<int>(PasswordVerdict::Unchecked));  // the other lane is full
    PasswordCheck trusted = check_of("s3cret");
    trusted.trusted = true;
    checker.submit(std::move(trusted), note("trusted"));
    const PasswordChecker::Load load = checker.load();
    CHECK(load.queued == 1);
    CHECK(load.queued_trusted == 1);
    CHECK(checker.queued() == 2);
    release.set_value();
    both_done.get_future().wait();
    CHECK(order == std::vector<std::string>{"trusted", "other"});
  }

  PasswordChecker checker(2, 64);
  std::atomic<int> done{0}, good{0};
  for (int i = 0; i < 8; ++i)
    checker.submit(check_of(i % 2 ? "s3cret" : "nope"), [&](PasswordVerdict v) {
      good += v == PasswordVerdict::Right, ++done;
    });
  while (done < 8) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  CHECK(good == 4);
  CHECK(checker.queued() == 0);
  // The last `done` may still be returning on its thread when `done` reads 8.
  for (int i = 0; i < 1000 && checker.load().running > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  CHECK(checker.load().running == 0);
}

TEST_CASE("DIGEST-MD5 over UDP: challenge, rspauth, then 200 to the header-only read", "[session][auth][digest]") {
  BrokerFixture fx;
  fx.add_user("bob", "pa55word");
  TestClient client(fx, udp_peer(kPublicV4));
  client.hello();

  const auto challenge = digest_challenge(client);
  // §2.4 step 2: exactly this text, no spaces, realm first.
  const std::string head = "realm=\""s + kRealm + "\",nonce=\"";
  const std::string tail = "\",qop=auth,algorithm=md5-sess,charset=utf-8";
  REQUIRE(challenge.size() > head.size() + tail.size());
  CHECK(challenge.substr(0, head.size()) == head);
  CHECK(challenge.substr(challenge.size() - tail.size()) == tail);
  const auto nonce = challenge.substr(head.size(), challenge.size() - head.size() - tail.size());
  CHECK(nonce.size() >= 16);
  CHECK(nonce.find_first_of("\",\\ ") == std::string::npos);
  CHECK(client.session().state_name() == "digest-response");

  const auto out = client.send(digest_response_line(challenge, "bob", "pa55word"));
  REQUIRE(out.replies.size() == 1);
  CHECK_FALSE(out.close);
  const auto& rspauth_line = out.replies[0].payload;
  REQUIRE(rspauth_line.size() > 2);
  CHECK(rspauth_line.substr(rspauth_line.size() - 2) == "\r\n");
  CHECK(auth::digest_md5_client_check_rspauth(decoded(rspauth_line), challenge, "bob", "pa55word", "192.0.2.1:3653",
                                              "1700000000"));
  CHECK(client.session().state_name() == "digest-final");

  CHECK(client.exchange("") == kSuccess);  // the client's header-only datagram
  CHECK(client.session().state_name() == "authenticated");
}

TEST_CASE("DIGEST-MD5 over TCP pushes the final 200 as a second, delayed reply", "[session][auth][digest]") {
  BrokerFixture fx;
  fx.add_user("bob", "pa55word");
  TestClient client(fx, tcp_peer(kPublicV4));
  client.hello();
  const auto challenge = digest_challenge(client);
  const auto out = client.send(digest_response_line(challenge, "bob", "pa55word"));
  REQUIRE(out.replies.size() == 2);
  CHECK_FALSE(out.close);
  CHECK(auth::digest_md5_client_check_rspauth(decoded(out.replies[0].payload), challenge, "bob", "pa55word",
                                              "192.0.2.1:3653", "1700000000"));
  CHECK(out.replies[1].payload == kSuccess);
  // Its own segment: gogoc reads with a single recv() (§1.4, §2.4 step 6).
  CHECK(out.replies[1].delay > std::chrono::milliseconds(0));
  CHECK(client.session().state_name() == "authenticated");
}

TEST_CASE("DIGEST-MD5 refusals answer 300 and expect AUTHENTICATE again", "[session][auth][digest]") {
  BrokerFixture fx;
  fx.add_user("bob", "pa55word");
  fx.add_user("carol", "pa55word", false);
  const bool udp = GENERATE(true, false);
  INFO((udp ? "udp" : "tcp"));
  TestClient client(fx, peer_for(udp));
  client.hello();
  const auto challenge = digest_challenge(client);

  SECTION("wrong password") { CHECK(client.exchange(digest_response_line(challenge, "bob", "wrong")) == kAuthFailed); }
  SECTION("unknown user") { CHECK(client.exchange(digest_response_line(challenge, "dave", "pa55word")) == kAuthFailed); }
  SECTION("disabled user") {
    CHECK(client.exchange(digest_response_line(challenge, "carol", "pa55word")) == kAuthFailed);
  }
  SECTION("not base64") { CHECK(client.exchange("this is not base64!\r\n") == kAuthFailed); }
  SECTION("base64 of garbage") { CHECK(client.exchange(auth::base64_encode("hello") + "\r\n") == kAuthFailed); }

  CHECK(client.session().state_name() == "expect-auth");
  // Not authenticated: a create request is no AUTHENTICATE line.
  CHECK(client.exchange(client_framed(xml::write_request_xml(host_request(kPublicV4)))) ==
        "500 Invalid request format\r\n");
  client.login_digest("bob", "pa55word");
}

TEST_CASE("a DIGEST-MD5 nonce is single use: a replayed response fails on a new challenge", "[session][auth][digest]") {
  BrokerFixture fx;
  fx.add_user("bob", "pa55word");
  const bool udp = GENERATE(true, false);
  INFO((udp ? "udp" : "tcp"));

  TestClient victim(fx, peer_for(udp));
  victim.hello();
  const auto first_challenge = digest_challenge(victim);
  const auto recorded = digest_response_line(first_challenge, "bob", "pa55word");
  const auto out = victim.send(recorded);
  REQUIRE(out.replies.size() == (udp ? 1u : 2u));
  REQUIRE(out.replies[0].payload != kAuthFailed);

  SECTION("replayed in the same session after a new VERSION") {
    victim.hello();
    const auto second_challenge = digest_challenge(victim);
    CHECK(second_challenge != first_challenge);
    CHECK(victim.exchange(recorded) == kAuthFailed);
    CHECK(victim.session().state_name() == "expect-auth");
  }
  SECTION("replayed by an eavesdropper in its own session") {
    TestClient attacker(fx, peer_for(udp, "203.0.113.66"));
    attacker.hello();
    const auto attacker_challenge = digest_challenge(attacker);
    CHECK(attacker_challenge != first_challenge);
    CHECK(attacker.exchange(recorded) == kAuthFailed);
  }
}

TEST_CASE("unknown or unlisted mechanisms get 300", "[session][auth]") {
  SECTION("unknown mechanisms") {
    BrokerFixture fx;
    TestClient client(fx, udp_peer(kPublicV4));
    client.hello();
    const std::string mech = GENERATE(as<std::string>{}, "FOO", "PASSDSS-3DES-1", "SCRAM-SHA-256", "");
    CHECK(client.exchange(with_nul("AUTHENTICATE " + mech + "\r\n")) == kAuthFailed);
    CHECK(client.session().state_name() == "expect-auth");
    client.login_anonymous();
  }
  SECTION("a mechanism the broker does not list in `authentication`") {
    ConfigText text;
    text.auth = "anonymous";
    BrokerFixture fx(text);
    fx.add_user("alice", "s3cret");
    TestClient client(fx, udp_peer(kPublicV4));
    CHECK(client.exchange("VERSION=2.0.2\r\n") == "CAPABILITY TUNNEL=V6V4 TUNNEL=V6UDPV4 AUTH=ANONYMOUS\r\n");
    CHECK(client.exchange(with_nul("AUTHENTICATE PLAIN\r\n")) == kAuthFailed);
    CHECK(client.exchange(with_nul("AUTHENTICATE DIGEST-MD5\r\n")) == kAuthFailed);
    CHECK(client.session().state_name() == "expect-auth");
    client.login_anonymous();
  }
  SECTION("ANONYMOUS when only registered users are served") {
    ConfigText text;
    text.auth = "digest-md5 plain";
    BrokerFixture fx(text);
    TestClient client(fx, udp_peer(kPublicV4));
    CHECK(client.exchange("VERSION=2.0.2\r\n") == "CAPABILITY TUNNEL=V6V4 TUNNEL=V6UDPV4 AUTH=DIGEST-MD5 AUTH=PLAIN\r\n");
    CHECK(client.exchange(with_nul("AUTHENTICATE ANONYMOUS\r\n")) == kAuthFailed);
  }
}

// ---- SCRAM-SHA-256 (ours: README) ---------------------------------------------------------

namespace {
ConfigText with_scram() {
  ConfigText text;
  text.auth = "scram-sha-256 digest-md5 plain anonymous";
  return text;
}
std::string scram_start_line(const auth::ScramSha256Client& c) {
  return "AUTHENTICATE SCRAM-SHA-256 " + auth::base64_encode(c.client_first()) + "\r\n";
}
// Runs the exchange up to the client-final message; returns the broker's answer to it.
SessionOutput scram_to_final(TestClient& client, auth::ScramSha256Client& scram) {
  const auto server_first = client.exchange(scram_start_line(scram));
  CHECK(client.session().state_name() == "scram-response");
  auto final_message = scram.client_final(decoded(server_first));
  REQUIRE(std::holds_alternative<std::string>(final_message));
  return client.send(auth::base64_encode(std::get<std::string>(final_message)) + "\r\n");
}
}  // namespace

TEST_CASE("SCRAM-SHA-256 is offered when configured and proves both sides, over UDP and TCP", "[session][auth][scram]") {
  BrokerFixture fx(with_scram());
  fx.add_user("bob", "pa55word");
  const bool udp = GENERATE(true, false);
  INFO((udp ? "udp" : "tcp"));
  TestClient client(fx, peer_for(udp));
  CHECK(client.exchange("VERSION=2.0.2\r\n") ==
        "CAPABILITY TUNNEL=V6V4 TUNNEL=V6UDPV4 AUTH=SCRAM-SHA-256 AUTH=DIGEST-MD5 AUTH=PLAIN AUTH=ANONYMOUS\r\n");

  auth::ScramSha256Client scram("bob", "pa55word", "c1i2e3n4t5n6o7n8c9e0");
  const auto server_first = decoded(client.exchange(scram_start_line(scram)));
  // r=<our nonce><the server's>, the salt and count the store keeps for bob.
  const auto stored = fx.store().find_user("bob")->credentials;
  const std::string head = "r=c1i2e3n4t5n6o7n8c9e0";
  CHECK(server_first.substr(0, head.size()) == head);
  CHECK(server_first.find(",s=" + auth::base64_encode(std::string(stored.scram_salt.begin(), stored.scram_salt.end())) +
                          ",i=4096") != std::string::npos);
  auto final_message = scram.client_final(server_first);
  REQUIRE(std::holds_alternative<std::string>(final_message));
  const auto out = client.send(auth::base64_encode(std::get<std::string>(final_message)) + "\r\n");
  REQUIRE_FALSE(out.replies.empty());
  CHECK(scram.check_server_final(decoded(out.replies[0].payload)));
  if (udp) {
    REQUIRE(out.replies.size() == 1);
    CHECK(client.exchange("") == kSuccess);  // the header-only read, as after DIGEST-MD5
  } else {
    REQUIRE(out.replies.size() == 2);
    CHECK(out.replies[1].payload == kSuccess);
  }
  CHECK(client.session().state_name() == "authenticated");
  client.create_ok(host_request(kPublicV4));
}

TEST_CASE("SCRAM-SHA-256 refusals answer 300 and reveal nothing of unknown users", "[session][auth][scram]") {
  BrokerFixture fx(with_scram());
  fx.add_user("bob", "pa55word");
  fx.add_user("carol", "pa55word", false);
  TestClient client(fx, udp_peer(kPublicV4));
  client.hello();

  SECTION("wrong password") {
    auth::ScramSha256Client scram("bob", "wrong", "nonce-of-the-client");
    CHECK(scram_to_final(client, scram).replies.at(0).payload == kAuthFailed);
  }
  SECTION("unknown and disabled users get a server-first message all the same, then 300") {
    for (const char* user : {"dave", "carol"}) {
      auth::ScramSha256Client scram(user, "pa55word", "nonce-of-the-client");
      CHECK(scram_to_final(client, scram).replies.at(0).payload == kAuthFailed);
    }
    // The fake salt is stable per name, as a real one would be.
    auth::ScramSha256Client a("dave", "x", "nonce-one-1"), b("dave", "x", "nonce-two-2");
    const auto first_a = decoded(client.exchange(scram_start_line(a)));
    client.send("AAAA\r\n");
    const auto first_b = decoded(client.exchange(scram_start_line(b)));
    CHECK(first_a.substr(first_a.find(",s=")) == first_b.substr(first_b.find(",s=")));
    client.send("AAAA\r\n");
  }
  SECTION("the fake salt comes from the environment's secret: the daemon's, kept in the store, survives a restart") {
    auto salt_of = [&](BrokerFixture& broker, const char* name) {
      TestClient c(broker, udp_peer(kPublicV4, 40123));
      c.hello();
      auth::ScramSha256Client scram(name, "x", "nonce-of-the-salt");
      const auto first = decoded(c.exchange(scram_start_line(scram)));
      return first.substr(first.find(",s="));
    };
    const std::string per_process = salt_of(fx, "dave");
    fx.env().scram_fake_salt_secret = std::vector<uint8_t>(32, 0x5a);
    const std::string kept = salt_of(fx, "dave");
    CHECK(kept != per_process);
    CHECK(kept != salt_of(fx, "erin"));
    // Another broker process with the secret read back from the store: the same fake salt.
    BrokerFixture restarted(with_scram());
    restarted.env().scram_fake_salt_secret = std::vector<uint8_t>(32, 0x5a);
    CHECK(salt_of(restarted, "dave") == kept);
    restarted.env().scram_fake_salt_secret = std::vector<uint8_t>(32, 0xa5);
    CHECK(salt_of(restarted, "dave") != kept);
    fx.env().scram_fake_salt_secret.clear();
    CHECK(salt_of(fx, "dave") == per_process);
  }
  SECTION("no client-first message, not base64, malformed, channel binding") {
    const std::string line = GENERATE(as<std::string>{}, "AUTHENTICATE SCRAM-SHA-256\r\n",
                                      "AUTHENTICATE SCRAM-SHA-256 not*base64\r\n",
                                      "AUTHENTICATE SCRAM-SHA-256 " + auth::base64_encode("n,,r=abcdefgh") + "\r\n",
                                      "AUTHENTICATE SCRAM-SHA-256 " + auth::base64_encode("p=tls-unique,,n=bob,r=abcdefgh") + "\r\n");
    CHECK(client.exchange(with_nul(line)) == kAuthFailed);
  }
  SECTION("a client-final message replayed on a new exchange") {
    auth::ScramSha256Client first("bob", "pa55word", "nonce-of-the-client");
    const auto server_first = decoded(client.exchange(scram_start_line(first)));
    const auto final_message = std::get<std::string>(first.client_final(server_first));
    client.send("AAAA\r\n");  // that exchange fails
    client.exchange(scram_start_line(first));
    CHECK(client.exchange(auth::base64_encode(final_message) + "\r\n") == kAuthFailed);
  }
  SECTION("an initial response on another mechanism") {
    CHECK(client.exchange(with_nul("AUTHENTICATE PLAIN AGFsaWNlAHMzY3JldA==\r\n")) == kAuthFailed);
  }
  CHECK(client.session().state_name() == "expect-auth");
  client.login_digest("bob", "pa55word");
}

TEST_CASE("failed password logins lock the address out; the lock is checked before any credential", "[session][auth][lockout]") {
  ConfigText text;
  text.lockout_failures = 3;
  BrokerFixture fx(text);
  fx.add_user("alice", "s3cret");
  fx.add_user("bob", "pa55word");
  const bool udp = GENERATE(true, false);
  INFO((udp ? "udp" : "tcp"));
  auto plain = [&](TestClient& client, const std::string& blob) {
    client.send(udp ? with_nul("AUTHENTICATE PLAIN\r\n") : "AUTHENTICATE PLAIN\r\n"s);
    return client.send(blob);
  };

  // Three wrong guesses from one address, over PLAIN and DIGEST-MD5, for any user names.
  TestClient guesser(fx, peer_for(udp));
  guesser.hello();
  CHECK(guesser.exchange(digest_response_line(digest_challenge(guesser), "bob", "guess1")) == kAuthFailed);
  CHECK(plain(guesser, "\0nobody\0guess2\r\n"s).replies.at(0).payload == kAuthFailed);
  const auto third = plain(guesser, "\0alice\0guess3\r\n"s);
  REQUIRE(third.replies.size() == 1);
  CHECK(third.replies[0].payload == kAuthFailed);
  CHECK(third.close);  // the failure that locks also ends the session

  // Now even the right password is refused unchecked, on a new session, at the AUTHENTICATE line.
  TestClient locked(fx, peer_for(udp));
  locked.hello();
  const auto refused = locked.send(udp ? with_nul("AUTHENTICATE PLAIN\r\n") : "AUTHENTICATE PLAIN\r\n"s);
  REQUIRE(refused.replies.size() == 1);
  CHECK(refused.replies[0].payload == kAuthFailed);
  CHECK(refused.close);
  TestClient locked_digest(fx, peer_for(udp));
  locked_digest.hello();
  CHECK(locked_digest.send(with_nul("AUTHENTICATE DIGEST-MD5\r\n")).replies.at(0).payload == kAuthFailed);
  // ANONYMOUS guesses nothing: still served. Another address is not affected.
  TestClient anonymous(fx, peer_for(udp));
  anonymous.hello();
  anonymous.login_anonymous();
  TestClient neighbour(fx, peer_for(udp, "198.51.100.8"));
  neighbour.hello();
  neighbour.login_plain("alice", "s3cret");

  // After the duration (300 s by default) the right password works, and clears the count.
  fx.advance(299);
  TestClient still(fx, peer_for(udp));
  still.hello();
  CHECK(still.send(with_nul("AUTHENTICATE DIGEST-MD5\r\n")).replies.at(0).payload == kAuthFailed);
  fx.advance(1);
  TestClient back(fx, peer_for(udp));
  back.hello();
  back.login_digest("bob", "pa55word");
  CHECK(fx.lockout().tracked() == 0);
}

TEST_CASE("many addresses guessing one user lock the name, except for addresses that proved it", "[session][auth][lockout]") {
  ConfigText text = with_scram();
  text.lockout_user_failures = 3;
  BrokerFixture fx(text);
  fx.add_user("alice", "s3cret");
  fx.add_user("bob", "pa55word");
  metrics::ControlCounters counters;
  fx.env().counters = &counters;
  const bool udp = GENERATE(true, false);
  INFO((udp ? "udp" : "tcp"));
  auto plain = [&](TestClient& client, const std::string& blob) {
    client.send(udp ? with_nul("AUTHENTICATE PLAIN\r\n") : "AUTHENTICATE PLAIN\r\n"s);
    return client.send(blob);
  };
  auto from = [&](const char* addr) {
    auto client = std::make_unique<TestClient>(fx, peer_for(udp, addr));
    client->hello();
    return client;
  };

  from("198.51.100.20")->login_plain("alice", "s3cret");  // alice's home: proves the password

  // Three addresses, one wrong guess each (DIGEST-MD5, PLAIN, SCRAM): none is near its own
  // limit of 5, but alice has failed three times.
  auto a = from("203.0.113.1");
  CHECK(a->exchange(digest_response_line(digest_challenge(*a), "alice", "guess1")) == kAuthFailed);
  auto b = from("203.0.113.2");
  CHECK(plain(*b, "\0alice\0guess2\r\n"s).replies.at(0).payload == kAuthFailed);
  // A SCRAM login started before the lock: its final message comes after it.
  auto e = from("203.0.113.5");
  auth::ScramSha256Client early("alice", "s3cret", "n0nce-started-early");
  const auto early_first = decoded(e->exchange(scram_start_line(early)));
  auto c = from("203.0.113.3");
  auth::ScramSha256Client wrong("alice", "guess3", "n0nce-of-the-guesser");
  const auto third = scram_to_final(*c, wrong);
  REQUIRE(third.replies.size() == 1);
  CHECK(third.replies[0].payload == kAuthFailed);
  CHECK_FALSE(third.close);  // the user's lock ends no session: the address may try other names
  CHECK(fx.lockout().locked_for(v4("203.0.113.3"), fx.now()) == 0);
  CHECK(fx.lockout().user_locked_for("alice", v4("203.0.113.4"), fx.now()) == 300);

  // From a fourth address even the right password is refused, unchecked, in every mechanism.
  const auto failures_before = counters.authentications(config::AuthMechanism::Plain, metrics::AuthResult::failure);
  auto d = from("203.0.113.4");
  CHECK(plain(*d, "\0alice\0s3cret\r\n"s).replies.at(0).payload == kAuthFailed);
  CHECK(d->session().state_name() == "expect-auth");
  CHECK(counters.authentications(config::AuthMechanism::Plain, metrics::AuthResult::locked_out) == 1);
  CHECK(counters.authentications(config::AuthMechanism::Plain, metrics::AuthResult::failure) == failures_before);
  CHECK(d->exchange(digest_response_line(digest_challenge(*d), "alice", "s3cret")) == kAuthFailed);
  CHECK(counters.authentications(config::AuthMechanism::DigestMd5, metrics::AuthResult::locked_out) == 1);
  auth::ScramSha256Client right("alice", "s3cret", "n0nce-of-the-fourth");
  CHECK(d->exchange(scram_start_line(right)) == kAuthFailed);  // at its client-first: no server-first
  CHECK(counters.authentications(config::AuthMechanism::ScramSha256, metrics::AuthResult::locked_out) == 1);
  const auto early_final = early.client_final(early_first);
  REQUIRE(std::holds_alternative<std::string>(early_final));
  CHECK(e->exchange(auth::base64_encode(std::get<std::string>(early_final)) + "\r\n") == kAuthFailed);
  CHECK(counters.authentications(config::AuthMechanism::ScramSha256, metrics::AuthResult::locked_out) == 2);
  CHECK(fx.lockout().locked_for(v4("203.0.113.4"), fx.now()) == 0);  // refusals are not failures of the address
  d->login_plain("bob", "pa55word");  // another name from the same address and session

  // alice's home is not held to the lock; neither is an address once it proves the password.
  from("198.51.100.20")->login_digest("alice", "s3cret");
  CHECK(fx.lockout().user_locked_for("alice", v4("203.0.113.4"), fx.now()) == 300);  // the lock stays

  // After the duration alice logs in from anywhere again.
  fx.advance(300);
  from("203.0.113.4")->login_digest("alice", "s3cret");
}

// ---- Tunnel request and offer (§3) ---------------------------------------------------------

TEST_CASE("the anonymous NAT offer is byte for byte the one of §3.5 (a)", "[session][offer]") {
  BrokerFixture fx;
  TestClient client(fx, udp_peer(kPublicV4, 40001));
  client.hello();
  client.login_anonymous();
  const auto reply = client.create(host_request(kPrivateV4));
  const std::string body =
      "200 Success\r\n"
      "<tunnel action=\"info\" type=\"v6udpv4\" lifetime=\"604800\">\r\n"
      " <server>\r\n"
      "  <address type=\"ipv4\">192.0.2.1</address>\r\n"
      "  <address type=\"ipv6\">2001:0db8:f001:0001:0000:0000:0000:0001</address>\r\n"
      " </server>\r\n"
      " <client>\r\n"
      "  <address type=\"ipv4\">198.51.100.7</address>\r\n"
      "  <address type=\"ipv6\">2001:0db8:f001:0001:0000:0000:0000:0002</address>\r\n"
      "  <dns_server>\r\n"
      "   <address type=\"ipv6\">2001:0db8:0000:0000:0000:0000:0000:0053</address>\r\n"
      "  </dns_server>\r\n"
      "  <keepalive interval=\"30\">\r\n"
      "   <address type=\"ipv6\">2001:0db8:f001:0001:0000:0000:0000:0001</address>\r\n"
      "  </keepalive>\r\n"
      " </client>\r\n"
      "</tunnel>\r\n";
  // Content-length counts everything after the first line: status line plus XML (§3.1).
  CHECK(reply == "Content-length: " + std::to_string(body.size()) + "\r\n" + body);
  CHECK(client.session().state_name() == "offered");
}

TEST_CASE("a host without NAT gets a v6v4 offer to its observed address", "[session][offer]") {
  BrokerFixture fx;
  const bool udp = GENERATE(true, false);
  const std::string type = GENERATE(as<std::string>{}, "v6anyv4", "v6v4");
  INFO((udp ? "udp " : "tcp ") << type);
  TestClient client(fx, peer_for(udp));
  client.hello();
  client.login_anonymous();
  const auto offer = client.create_ok(host_request(kPublicV4, type));
  CHECK(offer.type == "v6v4");
  CHECK(offer.client_v4 == v4(kPublicV4));
  CHECK(offer.server_v4 == v4(kServerV4));
  CHECK(offer.server_v6 == v6(kServerV6));
  CHECK(offer.client_v6 == v6("2001:db8:f001:1::2"));
  CHECK(offer.dns_server == v6(kDnsServer));
  CHECK(offer.keepalive_interval == 30u);
  CHECK(offer.keepalive_address == v6(kServerV6));
  CHECK_FALSE(offer.prefix.has_value());
  CHECK(offer.lifetime == 604800u);
}

TEST_CASE("an explicit v6udpv4 request over UDP is honoured without NAT", "[session][offer]") {
  BrokerFixture fx;
  TestClient client(fx, udp_peer(kPublicV4, 41000));
  client.hello();
  client.login_anonymous();
  CHECK(client.create_ok(host_request(kPublicV4, "v6udpv4")).type == "v6udpv4");
}

TEST_CASE("a proxy request gets v6v4 to the declared address, not the observed one", "[session][offer]") {
  BrokerFixture fx;
  TestClient client(fx, tcp_peer(kPublicV4));
  client.hello();
  client.login_anonymous();
  auto spec = host_request("203.0.113.77", "v6anyv4");
  spec.proxy = true;
  spec.keepalive_interval.reset();  // gogoc refuses proxy_client with keepalive (§3.2)
  const auto offer = client.create_ok(spec);
  CHECK(offer.type == "v6v4");
  CHECK(offer.client_v4 == v4("203.0.113.77"));
  client.accept();
  CHECK(decap_proto41_lookup(fx.table(), v4("203.0.113.77")).has_value());
  CHECK_FALSE(decap_proto41_lookup(fx.table(), v4(kPublicV4)).has_value());
}

TEST_CASE("routers get a /64 or /48 from the matching pool, written fully expanded", "[session][offer][router]") {
  BrokerFixture fx;
  fx.add_user("bob", "pa55word");
  const bool udp = GENERATE(true, false);
  INFO((udp ? "udp" : "tcp"));
  TestClient client(fx, peer_for(udp));
  client.hello();
  client.login_digest("bob", "pa55word");

  struct Case {
    unsigned asked;
    const char* expected;
    const char* expanded;
  };
  const auto c = GENERATE(Case{64, "2001:db8:f200::/64", "2001:0db8:f200:0000:0000:0000:0000:0000"},
                          Case{48, "2001:db8:f100::/48", "2001:0db8:f100:0000:0000:0000:0000:0000"},
                          Case{0, "2001:db8:f100::/48", "2001:0db8:f100:0000:0000:0000:0000:0000"});  // 0 = default
  INFO("asked /" << c.asked);
  const auto reply = client.create(router_request(kPublicV4, c.asked));
  const auto framed = split_framed_reply(reply);
  CHECK(framed.status_line == kSuccess);
  const unsigned len = c.asked == 0 ? 48 : c.asked;
  CHECK(framed.xml.find("  <router>\r\n   <prefix length=\"" + std::to_string(len) + "\">" + c.expanded +
                        "</prefix>\r\n  </router>\r\n") != std::string::npos);
  const auto offer = parse_offer_reply(reply);
  REQUIRE(offer.prefix.has_value());
  CHECK(*offer.prefix == prefix(c.expected));
  CHECK(offer.type == "v6v4");
}

TEST_CASE("refused create requests get the framed status of §4", "[session][offer][refusal]") {
  BrokerFixture fx;
  fx.add_user("bob", "pa55word");
  const bool udp = GENERATE(true, false);
  INFO((udp ? "udp" : "tcp"));
  TestClient client(fx, peer_for(udp));
  client.hello();

  auto refused = [&](const std::string& message, std::string_view status) {
    INFO("request: " << message);
    CHECK(client.exchange(message) == framed_reply(status));
    CHECK(client.session().state_name() == "authenticated");
  };
  auto request = [](const xml::RequestSpec& spec) { return client_framed(xml::write_request_xml(spec)); };

  SECTION("522: an anonymous client asks for a prefix") {
    client.login_anonymous();
    refused(request(router_request(kPublicV4, 64)), "522 Prefix requested by anonymous client\r\n");
  }
  SECTION("520: a router without prefix length") {
    client.login_digest("bob", "pa55word");
    refused(client_framed(raw_create("v6anyv4",
                                     "  <address type=\"ipv4\">198.51.100.7</address>\r\n  <router>\r\n  </router>\r\n")),
            "520 Missing prefix length\r\n");
  }
  SECTION("518: a prefix length no pool hands out") {
    client.login_digest("bob", "pa55word");
    const unsigned length = GENERATE(56u, 32u, 128u);
    refused(request(router_request(kPublicV4, length)), "518 Unsupported prefix length\r\n");
  }
  SECTION("501: a client IPv4 that is not an address, or none") {
    client.login_anonymous();
    refused(request(host_request("300.1.2.3")), "501 Invalid IPv4 address\r\n");
    refused(request(host_request("example.net")), "501 Invalid IPv4 address\r\n");
    refused(client_framed(raw_create("v6anyv4", "  <keepalive interval=\"30\"/>\r\n")), "501 Invalid IPv4 address\r\n");
  }
  SECTION("303: tunnel types this session cannot carry") {
    client.login_anonymous();
    // IPv4-in-IPv6 is not offered at all.
    refused(client_framed(raw_create("v4v6", "  <address type=\"ipv6\">2001:db8:1::10</address>\r\n"
                                             "  <address type=\"ipv4\">198.51.100.7</address>\r\n")),
            "303 Unsupported tunnel type\r\n");
    // Protocol 41 does not cross the NAT (§7).
    refused(request(host_request(kPrivateV4, "v6v4")), "303 Unsupported tunnel type\r\n");
    if (!udp) {
      // IPv6 in UDP needs the UDP session's mapping (§5.4).
      refused(request(host_request(kPublicV4, "v6udpv4")), "303 Unsupported tunnel type\r\n");
      refused(request(host_request(kPrivateV4, "v6anyv4")), "303 Unsupported tunnel type\r\n");
    }
  }
  SECTION("500: bad XML, a wrong Content-length, or no framing at all") {
    client.login_anonymous();
    const auto xml_text = xml::write_request_xml(host_request(kPublicV4));
    refused(client_framed("<tunnel action=\"create\" type=\"v6anyv4\"><client>\r\n"), "500 Invalid request format\r\n");
    refused(client_framed("not xml at all\r\n"), "500 Invalid request format\r\n");
    refused(client_framed("<tunnel action=\"explode\" type=\"v6anyv4\"></tunnel>\r\n"), "500 Invalid request format\r\n");
    refused("Content-length: " + std::to_string(xml_text.size() + 5) + "\r\n" + xml_text, "500 Invalid request format\r\n");
    refused("Content-length: " + std::to_string(xml_text.size() - 5) + "\r\n" + xml_text, "500 Invalid request format\r\n");
    refused("Content-length: lots\r\n" + xml_text, "500 Invalid request format\r\n");
    refused(xml_text, "500 Invalid request format\r\n");
  }
  // After any refusal the session still serves a good request.
  CHECK(split_framed_reply(client.create(host_request(kPublicV4))).status_line == kSuccess);
}

TEST_CASE("a second create while an offer is pending gets 521", "[session][offer]") {
  BrokerFixture fx;
  const bool udp = GENERATE(true, false);
  TestClient client(fx, peer_for(udp));
  client.hello();
  client.login_anonymous();
  const auto offer = client.create_ok(host_request(kPublicV4));
  CHECK(client.create(host_request(kPublicV4)) == framed_reply("521 Request already in progress\r\n"));
  CHECK(client.session().state_name() == "offered");
  client.accept();  // the first offer still stands
  const auto entry = encap_lookup(fx.table(), *offer.client_v6);
  REQUIRE(entry.has_value());
  CHECK(fx.service().live_tunnels() == 1);
}

TEST_CASE("accept publishes the tunnel to the dataplane table and the store", "[session][accept]") {
  BrokerFixture fx;
  fx.add_user("bob", "pa55word");

  SECTION("anonymous v6udpv4 behind NAT over UDP: one empty reply, decap by address and port") {
    TestClient client(fx, udp_peer(kPublicV4, 40001));
    client.hello();
    client.login_anonymous();
    const auto offer = client.create_ok(host_request(kPrivateV4));
    REQUIRE(offer.type == "v6udpv4");
    CHECK(fx.table().size() == 0);  // nothing forwards before the accept
    client.accept();                // REQUIREs the single empty reply
    const auto entry = encap_lookup(fx.table(), *offer.client_v6);
    REQUIRE(entry.has_value());
    CHECK(entry->mode == TunnelMode::V6UDPV4);
    CHECK(entry->client_v4 == v4(kPublicV4));
    CHECK(entry->client_port == 40001);
    CHECK(entry->server_v4 == v4(kServerV4));
    CHECK(entry->server_port == 3653);
    CHECK(entry->server_v6 == v6(kServerV6));
    CHECK(entry->mtu == 1280);
    CHECK_FALSE(entry->has_prefix());
    const auto decap = decap_udp_lookup(fx.table(), v4(kPublicV4), 40001);
    REQUIRE(decap.has_value());
    CHECK(decap->id == entry->id);
    CHECK_FALSE(decap_udp_lookup(fx.table(), v4(kPublicV4), 40002).has_value());
    CHECK_FALSE(decap_proto41_lookup(fx.table(), v4(kPublicV4)).has_value());
    const auto rows = fx.store().load_tunnels();
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].anonymous);
    CHECK(rows[0].client_v6 == *offer.client_v6);
    CHECK(rows[0].transport == "udp");
  }
  SECTION("registered v6v4 router over TCP: no reply, encap by /128 and by prefix, proto-41 decap") {
    TestClient client(fx, tcp_peer(kPublicV4));
    client.hello();
    client.login_digest("bob", "pa55word");
    const auto offer = client.create_ok(router_request(kPublicV4, 64));
    REQUIRE(offer.type == "v6v4");
    REQUIRE(offer.prefix.has_value());
    client.accept();  // REQUIREs that nothing is sent
    const auto by_host = encap_lookup(fx.table(), *offer.client_v6);
    REQUIRE(by_host.has_value());
    CHECK(by_host->mode == TunnelMode::V6V4);
    CHECK(by_host->client_v4 == v4(kPublicV4));
    CHECK(by_host->prefix_len == 64);
    CHECK(by_host->prefix == offer.prefix->addr);
    Ipv6Addr inside = offer.prefix->addr;
    inside.bytes[15] = 0x42;
    const auto by_prefix = encap_lookup(fx.table(), inside);
    REQUIRE(by_prefix.has_value());
    CHECK(by_prefix->id == by_host->id);
    const auto decap = decap_proto41_lookup(fx.table(), v4(kPublicV4));
    REQUIRE(decap.has_value());
    CHECK(decap->id == by_host->id);
    const auto rows = fx.store().load_tunnels();
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].user == "bob");
    CHECK(rows[0].transport == "tcp");
  }
}

TEST_CASE("reject returns the offer's allocations", "[session][reject]") {
  BrokerFixture fx;
  const bool udp = GENERATE(true, false);
  TestClient client(fx, peer_for(udp));
  client.hello();
  client.login_anonymous();
  const auto* endpoints = fx.service().pool("P_Endpoints");
  REQUIRE(endpoints != nullptr);
  const auto used_before = endpoints->used();
  client.create_ok(host_request(kPublicV4));
  CHECK(endpoints->used() == used_before + 1);

  const auto out = client.send(kRejectMessage);
  if (udp) {
    REQUIRE(out.replies.size() == 1);
    CHECK(out.replies[0].payload.empty());
  } else {
    CHECK(out.replies.empty());
  }
  CHECK(endpoints->used() == used_before);
  CHECK(fx.table().size() == 0);
  CHECK(fx.store().load_tunnels().empty());
  CHECK(client.session().state_name() == "authenticated");
  // The client may ask again.
  client.create_ok(host_request(kPublicV4));
  client.accept();
  CHECK(fx.table().size() == 1);
}

TEST_CASE("a session that ends with an offer pending gives the address back", "[session][reject]") {
  ConfigText text;
  text.endpoints = "2001:db8:f001:1::/126";  // ::0 anycast, ::1 server, ::2 and ::3 for clients
  BrokerFixture fx(text);
  TestClient first(fx, udp_peer("198.51.100.1"));
  first.hello();
  first.login_anonymous();
  CHECK(first.create_ok(host_request("198.51.100.1")).client_v6 == v6("2001:db8:f001:1::2"));

  TestClient second(fx, udp_peer("198.51.100.2"));
  CHECK(second.anonymous_tunnel(host_request("198.51.100.2")).client_v6 == v6("2001:db8:f001:1::3"));

  first.disconnect();  // e.g. the TCP connection closed, or the UDP session timed out
  CHECK(fx.service().pool("P_Endpoints")->used() == 1);
  TestClient third(fx, udp_peer("198.51.100.3"));
  CHECK(third.anonymous_tunnel(host_request("198.51.100.3")).client_v6 == v6("2001:db8:f001:1::2"));
  CHECK(fx.table().size() == 2);
}

TEST_CASE("a TSP 1.0.1 client's tunnel is live right after the offer", "[session][version]") {
  BrokerFixture fx;
  const bool udp = GENERATE(true, false);
  TestClient client(fx, peer_for(udp));
  client.hello("1.0.1");
  client.login_anonymous();
  const auto offer = client.create_ok(host_request(kPublicV4));  // 1.0.1 sends no accept (§1.6)
  CHECK(client.session().tunnel_established());
  const auto entry = encap_lookup(fx.table(), *offer.client_v6);
  REQUIRE(entry.has_value());
  CHECK(decap_proto41_lookup(fx.table(), v4(kPublicV4)).has_value());
  CHECK(fx.store().load_tunnels().size() == 1);
}

TEST_CASE("an established session stays silent to empty datagrams", "[session][established]") {
  BrokerFixture fx;
  TestClient client(fx, udp_peer(kPublicV4));
  client.anonymous_tunnel(host_request(kPublicV4));
  const auto out = client.send("");
  CHECK(out.replies.empty());
  CHECK_FALSE(out.close);
  CHECK(client.session().tunnel_established());
}

TEST_CASE("delete removes the caller's tunnel; info is not offered (310)", "[session][delete]") {
  BrokerFixture fx;
  fx.add_user("bob", "pa55word");
  const bool udp = GENERATE(true, false);
  TestClient client(fx, peer_for(udp));
  const auto offer = client.digest_tunnel("bob", "pa55word", router_request(kPublicV4, 48));
  REQUIRE(fx.table().size() == 1);
  CHECK(client.exchange(client_framed("<tunnel action=\"info\" type=\"v6anyv4\"></tunnel>\r\n")) ==
        framed_reply("310 Server side error\r\n"));
  CHECK(client.exchange(client_framed("<tunnel action=\"delete\"></tunnel>\r\n")) == framed_reply("200 Success\r\n"));
  CHECK(fx.table().size() == 0);
  CHECK_FALSE(encap_lookup(fx.table(), *offer.client_v6).has_value());
  CHECK(fx.store().load_tunnels().empty());
  CHECK(client.exchange(client_framed("<tunnel action=\"delete\"></tunnel>\r\n")) ==
        framed_reply("310 Server side error\r\n"));
}

TEST_CASE("a session whose tunnel is gone is established no more, and may ask again", "[session][established]") {
  // The TCP server holds an established session's connection open for the tunnel's life, so
  // the session must not go on claiming a tunnel that was deleted, expired, kicked or replaced.
  BrokerFixture fx;
  fx.add_user("bob", "pa55word");
  const bool udp = GENERATE(true, false);
  TestClient client(fx, peer_for(udp));
  client.digest_tunnel("bob", "pa55word", host_request(kPublicV4));
  REQUIRE(client.session().tunnel_established());
  const auto create_again = [&] {
    // Not 521 "request in progress": the session is back to authenticated.
    client.create_ok(host_request(kPublicV4));
    client.accept();
    CHECK(client.session().tunnel_established());
  };

  SECTION("deleted by the client") {
    CHECK(client.exchange(client_framed("<tunnel action=\"delete\"></tunnel>\r\n")) == framed_reply("200 Success\r\n"));
    CHECK_FALSE(client.session().tunnel_established());
    create_again();
  }
  SECTION("expired") {
    fx.advance(3600);
    REQUIRE(fx.service().expire_idle(fx.now()) == 1);
    CHECK_FALSE(client.session().tunnel_established());
    create_again();
  }
  SECTION("kicked by the operator") {
    REQUIRE(fx.service().kick(fx.service().tunnels().at(0).id, fx.now()));
    CHECK_FALSE(client.session().tunnel_established());
    create_again();
  }
  SECTION("replaced by the user's next session, which takes over the same slot") {
    const auto slot = fx.service().tunnels().at(0).id;
    TestClient next(fx, peer_for(udp, "198.51.100.99"));
    next.digest_tunnel("bob", "pa55word", host_request("198.51.100.99"));
    REQUIRE(fx.service().tunnels().size() == 1);
    CHECK(fx.service().tunnels().at(0).id == slot);
    CHECK(next.session().tunnel_established());
    CHECK_FALSE(client.session().tunnel_established());
  }
  CHECK(client.session().tunnel_went_live());
}

TEST_CASE("a user deleted while a session is open gets 310 for a tunnel, and the pools keep nothing",
          "[session][offer][refusal]") {
  BrokerFixture fx;
  fx.add_user("bob", "pa55word");
  const bool udp = GENERATE(true, false);
  TestClient client(fx, peer_for(udp));
  client.hello();
  client.login_plain("bob", "pa55word");
  REQUIRE(fx.service().remove_user("bob", fx.now()));  // tspctl user del, meanwhile
  const auto before = fx.service().pool_usage();
  CHECK(client.create(router_request(kPublicV4, 64)) == framed_reply("310 Server side error\r\n"));
  const auto after = fx.service().pool_usage();
  REQUIRE(after.size() == before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    INFO("pool " << after[i].name);
    CHECK(after[i].used == before[i].used);  // the block tried is back (reusable at once), not used
  }
  CHECK(fx.store().load_allocations().empty());
  CHECK(fx.service().live_tunnels() == 0);
}

// ---- Redirection (§6) ---------------------------------------------------------------------

TEST_CASE("a full broker redirects the next client with 1200 and its broker list", "[session][redirect]") {
  ConfigText text;
  text.endpoints = "2001:db8:f001:1::/126";  // room for two clients
  text.redirect_brokers = {"192.0.2.9"};
  BrokerFixture fx(text);
  TestClient first(fx, udp_peer("198.51.100.1"));
  first.anonymous_tunnel(host_request("198.51.100.1"));
  TestClient second(fx, tcp_peer("198.51.100.2"));
  second.anonymous_tunnel(host_request("198.51.100.2"));

  const bool udp = GENERATE(true, false);
  TestClient third(fx, peer_for(udp, "198.51.100.3"));
  third.hello();
  third.login_anonymous();
  const std::string body =
      "1200 Redirection\r\n"
      "<tunnel action=\"info\" type=\"v6anyv4\" lifetime=\"604800\">\r\n"
      " <broker>\r\n"
      "  <address type=\"ipv4\">192.0.2.9</address>\r\n"
      " </broker>\r\n"
      "</tunnel>\r\n";
  CHECK(third.create(host_request("198.51.100.3")) == "Content-length: " + std::to_string(body.size()) + "\r\n" + body);
  CHECK_FALSE(third.session().tunnel_established());
  CHECK(fx.table().size() == 2);
  const auto parsed = parse_offer_reply(third.create(host_request("198.51.100.3")));
  CHECK(parsed.brokers == std::vector<std::string>{"192.0.2.9"});
}

TEST_CASE("without redirect brokers an exhausted pool answers 301", "[session][capacity]") {
  ConfigText text;
  text.endpoints = "2001:db8:f001:1::/126";
  BrokerFixture fx(text);
  TestClient first(fx, udp_peer("198.51.100.1"));
  first.anonymous_tunnel(host_request("198.51.100.1"));
  TestClient second(fx, udp_peer("198.51.100.2"));
  second.anonymous_tunnel(host_request("198.51.100.2"));
  TestClient third(fx, udp_peer("198.51.100.3"));
  third.hello();
  third.login_anonymous();
  CHECK(third.create(host_request("198.51.100.3")) == framed_reply("301 No more tunnels available\r\n"));
  CHECK(third.session().state_name() == "authenticated");
}
