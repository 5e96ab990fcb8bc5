// The TSP dialogue of tspc against a scripted broker (no sockets): every step, every way a
// broker can refuse, and the credentials never reaching the log.
#include <catch2/catch.hpp>

#include <deque>
#include <functional>
#include <optional>

#include "control/auth/base64.hpp"
#include "control/auth/crypto.hpp"
#include "control/auth/digest_md5_server.hpp"
#include "control/auth/make_credentials.hpp"
#include "control/auth/scram_server.hpp"
#include "control/framing.hpp"
#include "tools/tspc/negotiation.hpp"

using namespace tsp;
using namespace tsp::tspc;

namespace {

const std::string kCapAll = "CAPABILITY TUNNEL=V6V4 TUNNEL=V6UDPV4 AUTH=DIGEST-MD5 AUTH=PLAIN AUTH=ANONYMOUS\r\n";
const std::string kAuthAnonymous("AUTHENTICATE ANONYMOUS\r\n\0", 25);
const std::string kAuthPlain("AUTHENTICATE PLAIN\r\n\0", 21);
const std::string kAuthDigest("AUTHENTICATE DIGEST-MD5\r\n\0", 26);

// What the client did, in order: 'x' exchange, 'u' send_unanswered, 'n' receive_next.
struct Sent {
  char how;
  std::string payload;
};

class ScriptedBroker final : public ControlTransport {
 public:
  using Answer = std::function<std::string(const std::string& payload)>;
  ScriptedBroker(bool udp, Answer answer) : udp_(udp), answer_(std::move(answer)) {}

  std::string exchange(std::string_view payload) override { return record('x', payload); }
  void send_unanswered(std::string_view payload) override { sent.push_back({'u', std::string(payload)}); }
  std::string receive_next() override { return record('n', ""); }
  bool is_udp() const override { return udp_; }
  Ipv4Addr local_address() const override { return *Ipv4Addr::parse("192.168.1.10"); }
  tunnel::UniqueFd release_socket() override { return {}; }

  std::vector<Sent> sent;

 private:
  std::string record(char how, std::string_view payload) {
    sent.push_back({how, std::string(payload)});
    return answer_(std::string(payload));
  }
  bool udp_;
  Answer answer_;
};

xml::TunnelOffer sample_offer(const std::string& type) {
  xml::TunnelOffer o;
  o.type = type;
  o.server_v4 = *Ipv4Addr::parse("203.0.113.1");
  o.server_v6 = *Ipv6Addr::parse("2001:db8::1");
  o.client_v4 = *Ipv4Addr::parse("198.51.100.7");
  o.client_v6 = *Ipv6Addr::parse("2001:db8::2");
  o.dns_server = *Ipv6Addr::parse("2001:db8::53");
  o.keepalive_interval = 30;
  o.keepalive_address = o.server_v6;
  return o;
}

std::string framed(const std::string& status_line, const std::string& xml) {
  return frame_content(status_line + "\r\n" + xml);
}

std::string offer_reply(const std::string& type) { return framed("200 Success", xml::write_offer_xml(sample_offer(type))); }

TspcConfig config(AuthMethod method, const std::string& user = "", const std::string& password = "") {
  TspcConfig cfg;
  cfg.server = ServerAddress{"127.0.0.1", 3653, "127.0.0.1:3653", false};
  cfg.template_name = "checktunnel";
  cfg.auth_method = method;
  cfg.userid = user;
  cfg.passwd = password;
  return cfg;
}

struct Run {
  NegotiationOutcome outcome;
  std::vector<std::string> log;
};

Run negotiate_with(ScriptedBroker& broker, const TspcConfig& cfg, std::string_view version = "2.0.2") {
  Run run;
  NegotiationContext context{version, cfg.server.text, "1795417218",
                             [&run](int, std::string_view text) { run.log.emplace_back(text); }};
  run.outcome = negotiate(broker, cfg, context);
  return run;
}

// Anonymous broker: CAPABILITY, 200, then `request_reply` to the create request.
ScriptedBroker::Answer anonymous_broker(std::string capability, std::string request_reply) {
  return [=](const std::string& p) -> std::string {
    if (p.rfind("VERSION=", 0) == 0) return capability;
    if (p == kAuthAnonymous) return "200 Success\r\n";
    if (p.rfind("Content-length:", 0) == 0) return request_reply;
    return "500 unexpected\r\n";
  };
}

}  // namespace

TEST_CASE("anonymous v6anyv4 over UDP: the whole dialogue", "[tspc][negotiation]") {
  ScriptedBroker broker(true, anonymous_broker(kCapAll, offer_reply("v6udpv4")));
  const Run run = negotiate_with(broker, config(AuthMethod::Any));
  REQUIRE(run.outcome.kind == NegotiationOutcome::Kind::Tunnel);
  CHECK(run.outcome.offer.type == "v6udpv4");
  CHECK(run.outcome.offer.client_v6 == Ipv6Addr::parse("2001:db8::2"));
  CHECK(run.outcome.offer.keepalive_interval == 30u);
  CHECK(run.outcome.declared_v4 == Ipv4Addr::parse("192.168.1.10"));
  REQUIRE(broker.sent.size() == 4);
  CHECK(broker.sent[0].payload == "VERSION=2.0.2\r\n");
  CHECK(broker.sent[1].payload == kAuthAnonymous);
  CHECK(broker.sent[2].payload.rfind("Content-length: 217\r\n<tunnel action=\"create\" type=\"v6anyv4\"", 0) == 0);
  CHECK(broker.sent[3].how == 'u');
  CHECK(broker.sent[3].payload == "Content-length: 35\r\n<tunnel action=\"accept\"></tunnel>\r\n");
  // -vvv shows the messages themselves.
  CHECK(std::find(run.log.begin(), run.log.end(), "sent: VERSION=2.0.2") != run.log.end());
}

TEST_CASE("version 1.0.1 sends no accept", "[tspc][negotiation]") {
  ScriptedBroker broker(false, anonymous_broker(kCapAll, offer_reply("v6v4")));
  const Run run = negotiate_with(broker, config(AuthMethod::Anonymous), "1.0.1");
  REQUIRE(run.outcome.kind == NegotiationOutcome::Kind::Tunnel);
  CHECK(broker.sent.front().payload == "VERSION=1.0.1\r\n");
  CHECK(broker.sent.back().how == 'x');  // the request was the last message
}

TEST_CASE("PLAIN over TCP, and the password never in the log", "[tspc][negotiation][auth]") {
  const std::string user = "bob", password = "s3cret-pw";
  std::string blob_seen;
  ScriptedBroker broker(false, [&](const std::string& p) -> std::string {
    if (p.rfind("VERSION=", 0) == 0) return "CAPABILITY TUNNEL=V6V4 AUTH=PLAIN\r\n";
    if (p.rfind("Content-length:", 0) == 0) return offer_reply("v6v4");
    blob_seen = p;
    return p == std::string("\0bob\0s3cret-pw\r\n", 16) ? "200 Success\r\n" : "300 Authentication failed\r\n";
  });
  const Run run = negotiate_with(broker, config(AuthMethod::Any, user, password));
  REQUIRE(run.outcome.kind == NegotiationOutcome::Kind::Tunnel);
  CHECK(broker.sent[1].how == 'u');
  CHECK(broker.sent[1].payload == kAuthPlain);
  CHECK(blob_seen == std::string("\0bob\0s3cret-pw\r\n", 16));
  bool masked = false;
  for (const auto& line : run.log) {
    CHECK(line.find(password) == std::string::npos);
    masked = masked || line == "sent: <credentials>";
  }
  CHECK(masked);

  SECTION("a wrong password is an authentication failure (16)") {
    ScriptedBroker wrong(false, [&](const std::string& p) -> std::string {
      if (p.rfind("VERSION=", 0) == 0) return "CAPABILITY TUNNEL=V6V4 AUTH=PLAIN\r\n";
      return "300 Authentication failed\r\n";
    });
    const Run failed = negotiate_with(wrong, config(AuthMethod::Plain, user, "wrong"));
    CHECK(failed.outcome.kind == NegotiationOutcome::Kind::Failed);
    CHECK(failed.outcome.code == ExitCode::AuthenticationFailure);
    CHECK(failed.outcome.message.find("300 Authentication failed") != std::string::npos);
  }
}

TEST_CASE("DIGEST-MD5 against the broker's own server side", "[tspc][negotiation][auth]") {
  const std::string user = "alice", password = "correct horse";
  auth::DigestMd5Server server("tsp-test", "4A5B6C7D");
  const auto urp = auth::crypto::md5(user + ":tsp-test:" + password);
  std::string rspauth;
  bool udp = GENERATE(true, false);
  ScriptedBroker broker(udp, [&](const std::string& p) -> std::string {
    if (p.rfind("VERSION=", 0) == 0) return kCapAll;
    if (p == kAuthDigest) return auth::base64_encode(server.challenge()) + "\r\n";
    if (p.rfind("Content-length:", 0) == 0) return offer_reply("v6v4");
    if (p.empty()) return "200 Success\r\n";  // UDP read after rspauth, or TCP's pushed status
    const auto decoded = auth::base64_decode(p);
    if (!decoded) return "300 Authentication failed\r\n";
    auto parsed = server.parse_response(*decoded);
    if (!std::holds_alternative<auth::DigestResponse>(parsed)) return "300 Authentication failed\r\n";
    CHECK(std::get<auth::DigestResponse>(parsed).digest_uri == "tsp/127.0.0.1:3653");
    const auto verified = server.verify(std::get<auth::DigestResponse>(parsed), urp);
    if (!verified) return "300 Authentication failed\r\n";
    return auth::base64_encode(*verified) + "\r\n";
  });
  const Run run = negotiate_with(broker, config(AuthMethod::Any, user, password));
  INFO(run.outcome.message);
  REQUIRE(run.outcome.kind == NegotiationOutcome::Kind::Tunnel);
  CHECK(broker.sent[1].payload == kAuthDigest);
  CHECK(broker.sent[3].how == 'n');  // the final status is read, not asked for
  for (const auto& line : run.log) CHECK(line.find(password) == std::string::npos);

  SECTION("wrong password: 300 after the response") {
    auth::DigestMd5Server server2("tsp-test", "11111111");
    ScriptedBroker wrong(udp, [&](const std::string& p) -> std::string {
      if (p.rfind("VERSION=", 0) == 0) return kCapAll;
      if (p == kAuthDigest) return auth::base64_encode(server2.challenge()) + "\r\n";
      return "300 Authentication failed\r\n";
    });
    CHECK(negotiate_with(wrong, config(AuthMethod::DigestMd5, user, "nope")).outcome.code == ExitCode::AuthenticationFailure);
  }
  SECTION("a broker whose rspauth is wrong is not trusted") {
    ScriptedBroker liar(udp, [&](const std::string& p) -> std::string {
      if (p.rfind("VERSION=", 0) == 0) return kCapAll;
      if (p == kAuthDigest) return auth::base64_encode("realm=\"r\",nonce=\"n1\",qop=auth,algorithm=md5-sess,charset=utf-8") + "\r\n";
      return auth::base64_encode("rspauth=00000000000000000000000000000000") + "\r\n";
    });
    CHECK(negotiate_with(liar, config(AuthMethod::Any, user, password)).outcome.code == ExitCode::AuthenticationFailure);
  }
}

TEST_CASE("SCRAM-SHA-256 against the broker's own server side", "[tspc][negotiation][auth]") {
  const std::string user = "alice", password = "correct horse";
  const auto salt = auth::crypto::random_bytes(16);
  const auto keys = auth::derive_scram_keys(password, salt, 4096);
  std::optional<auth::ScramSha256Server> server;
  const bool udp = GENERATE(true, false);
  const std::string kCapOurs = "CAPABILITY TUNNEL=V6V4 AUTH=SCRAM-SHA-256 AUTH=DIGEST-MD5 AUTH=PLAIN\r\n";
  auto answer = [&](const std::string& p, bool honest) -> std::string {
    if (p.rfind("VERSION=", 0) == 0) return kCapOurs;
    if (p.rfind("Content-length:", 0) == 0) return offer_reply("v6v4");
    if (p.empty()) return "200 Success\r\n";
    const std::string start = "AUTHENTICATE SCRAM-SHA-256 ";
    if (p.rfind(start, 0) == 0) {
      CHECK(p.substr(p.size() - 2) == "\r\n");
      const auto first = auth::base64_decode(p.substr(start.size(), p.size() - start.size() - 2));
      if (!first) return "300 Authentication failed\r\n";
      auto parsed = auth::parse_scram_client_first(*first);
      if (!std::holds_alternative<auth::ScramClientFirst>(parsed)) return "300 Authentication failed\r\n";
      CHECK(std::get<auth::ScramClientFirst>(parsed).user == user);
      server.emplace(std::get<auth::ScramClientFirst>(parsed), salt, 4096, "srvnonce");
      return auth::base64_encode(server->server_first()) + "\r\n";
    }
    const auto final_message = auth::base64_decode(p);
    if (!final_message || !server) return "300 Authentication failed\r\n";
    auto verified = server->verify_client_final(*final_message, keys.stored_key, keys.server_key);
    if (!std::holds_alternative<std::string>(verified)) return "300 Authentication failed\r\n";
    return auth::base64_encode(honest ? std::get<std::string>(verified) : "v=" + auth::base64_encode(std::string(32, 'x'))) + "\r\n";
  };
  ScriptedBroker broker(udp, [&](const std::string& p) { return answer(p, true); });
  const Run run = negotiate_with(broker, config(AuthMethod::Any, user, password));
  INFO(run.outcome.message);
  REQUIRE(run.outcome.kind == NegotiationOutcome::Kind::Tunnel);
  CHECK(broker.sent[1].how == 'x');
  CHECK(broker.sent[2].how == 'x');
  CHECK(broker.sent[3].how == 'n');  // the final status is read, not asked for
  for (const auto& line : run.log) CHECK(line.find(password) == std::string::npos);

  SECTION("wrong password: 300 after the client-final message") {
    CHECK(negotiate_with(broker, config(AuthMethod::ScramSha256, user, "nope")).outcome.code ==
          ExitCode::AuthenticationFailure);
  }
  SECTION("a broker whose server-final is wrong is not trusted") {
    ScriptedBroker liar(udp, [&](const std::string& p) { return answer(p, false); });
    const Run lied = negotiate_with(liar, config(AuthMethod::Any, user, password));
    CHECK(lied.outcome.code == ExitCode::AuthenticationFailure);
    CHECK(lied.outcome.message.find("does not prove") != std::string::npos);
  }
  SECTION("a legacy broker without it: DIGEST-MD5 as before; scram-sha-256 alone has nothing in common") {
    ScriptedBroker legacy(udp, [&](const std::string& p) -> std::string {
      return p.rfind("VERSION=", 0) == 0 ? kCapAll : "300 Authentication failed\r\n";
    });
    const Run r = negotiate_with(legacy, config(AuthMethod::ScramSha256, user, password));
    CHECK(r.outcome.code == ExitCode::NoCommonAuthentication);
  }
}

TEST_CASE("what the broker can answer VERSION with", "[tspc][negotiation]") {
  const auto answer_version = [](std::string reply) {
    return [reply](const std::string&) { return reply; };
  };
  SECTION("302: try an older version") {
    ScriptedBroker b(true, answer_version("302 Unsupported client version\r\n"));
    CHECK(negotiate_with(b, config(AuthMethod::Any)).outcome.code == ExitCode::InvalidTspVersion);
  }
  SECTION("530: busy") {
    ScriptedBroker b(true, answer_version("530 Server too busy\r\n"));
    CHECK(negotiate_with(b, config(AuthMethod::Any)).outcome.code == ExitCode::ServerTooBusy);
  }
  SECTION("garbage: generic error") {
    ScriptedBroker b(true, answer_version("hello\r\n"));
    CHECK(negotiate_with(b, config(AuthMethod::Any)).outcome.code == ExitCode::TspGenericError);
  }
  SECTION("1200 with a broker list: redirect") {
    ScriptedBroker b(true, answer_version("1200 Redirection\r\n" + xml::write_redirect_xml({"192.0.2.7", "192.0.2.8"}, 604800)));
    const Run run = negotiate_with(b, config(AuthMethod::Any));
    REQUIRE(run.outcome.kind == NegotiationOutcome::Kind::Redirect);
    CHECK(run.outcome.brokers == std::vector<std::string>{"192.0.2.7", "192.0.2.8"});
  }
  SECTION("1200 without a list: redirection error (14)") {
    ScriptedBroker b(true, answer_version("1200 Redirection\r\n"));
    CHECK(negotiate_with(b, config(AuthMethod::Any)).outcome.code == ExitCode::BrokerRedirection);
  }
  SECTION("tunnel mode not offered (15)") {
    ScriptedBroker b(true, answer_version("CAPABILITY TUNNEL=V6UDPV4 AUTH=ANONYMOUS\r\n"));
    TspcConfig cfg = config(AuthMethod::Anonymous);
    cfg.tunnel_mode = TunnelMode::V6V4;
    const Run run = negotiate_with(b, cfg);
    CHECK(run.outcome.code == ExitCode::TunnelModeNotAvailable);
    CHECK(b.sent.size() == 1);
  }
  SECTION("no common authentication (17): any never falls back to ANONYMOUS") {
    ScriptedBroker b(true, answer_version("CAPABILITY TUNNEL=V6V4 AUTH=ANONYMOUS\r\n"));
    const Run run = negotiate_with(b, config(AuthMethod::Any, "bob", "pw"));
    CHECK(run.outcome.code == ExitCode::NoCommonAuthentication);
    CHECK(run.outcome.message.find("AUTH=ANONYMOUS") != std::string::npos);
  }
}

TEST_CASE("what the broker can answer the tunnel request with", "[tspc][negotiation]") {
  SECTION("1200 framed with a list: redirect") {
    ScriptedBroker b(true, anonymous_broker(kCapAll, framed("1200 Redirection", xml::write_redirect_xml({"broker2.example"}, 1))));
    const Run run = negotiate_with(b, config(AuthMethod::Any));
    REQUIRE(run.outcome.kind == NegotiationOutcome::Kind::Redirect);
    CHECK(run.outcome.brokers == std::vector<std::string>{"broker2.example"});
  }
  SECTION("an error status: generic error, the status in the message") {
    ScriptedBroker b(true, anonymous_broker(kCapAll, framed("522 Prefix requested by anonymous client", "")));
    const Run run = negotiate_with(b, config(AuthMethod::Any));
    CHECK(run.outcome.code == ExitCode::TspGenericError);
    CHECK(run.outcome.message.find("522") != std::string::npos);
  }
  SECTION("unframed reply: socket I/O error (10)") {
    ScriptedBroker b(true, anonymous_broker(kCapAll, "200 Success\r\n"));
    CHECK(negotiate_with(b, config(AuthMethod::Any)).outcome.code == ExitCode::SocketIo);
  }
  SECTION("an offer without the client IPv6 address: bad tunnel parameters (19)") {
    std::string offer = xml::write_offer_xml(sample_offer("v6v4"));
    const size_t at = offer.find("<address type=\"ipv6\">2001:0db8:0000:0000:0000:0000:0000:0002</address>");
    REQUIRE(at != std::string::npos);
    offer.erase(at, std::string("<address type=\"ipv6\">2001:0db8:0000:0000:0000:0000:0000:0002</address>").size());
    ScriptedBroker b(true, anonymous_broker(kCapAll, framed("200 Success", offer)));
    CHECK(negotiate_with(b, config(AuthMethod::Any)).outcome.code == ExitCode::BadTunnelParam);
  }
  SECTION("v6udpv4 offered on a TCP session cannot work (19)") {
    ScriptedBroker b(false, anonymous_broker(kCapAll, offer_reply("v6udpv4")));
    CHECK(negotiate_with(b, config(AuthMethod::Any)).outcome.code == ExitCode::BadTunnelParam);
  }
  SECTION("asked for v6v4, offered v6udpv4 (19)") {
    ScriptedBroker b(true, anonymous_broker(kCapAll, offer_reply("v6udpv4")));
    TspcConfig cfg = config(AuthMethod::Any);
    cfg.tunnel_mode = TunnelMode::V6V4;
    CHECK(negotiate_with(b, cfg).outcome.code == ExitCode::BadTunnelParam);
  }
}

TEST_CASE("a dead transport", "[tspc][negotiation]") {
  ScriptedBroker b(true, [](const std::string&) -> std::string {
    throw TransportError(TransportError::Kind::NoAnswer, "no answer");
  });
  CHECK(negotiate_with(b, config(AuthMethod::Any)).outcome.code == ExitCode::SocketConnectFailed);
  ScriptedBroker later(true, [&](const std::string& p) -> std::string {
    if (p.rfind("VERSION=", 0) == 0) return kCapAll;
    throw TransportError(TransportError::Kind::Io, "reset");
  });
  CHECK(negotiate_with(later, config(AuthMethod::Any)).outcome.code == ExitCode::SocketIo);
}

TEST_CASE("printable_message shows control bytes", "[tspc][negotiation]") {
  CHECK(printable_message(std::string("AUTHENTICATE PLAIN\r\n\0", 21)) == "AUTHENTICATE PLAIN\\0");
  CHECK(printable_message("a\x01z\r\n") == "a\\x01z");
  CHECK(printable_message(std::string(3000, 'a')).size() == 2003);
}
