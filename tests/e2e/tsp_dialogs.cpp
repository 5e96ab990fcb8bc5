#include "tests/e2e/tsp_dialogs.hpp"

#include <catch2/catch.hpp>
#include <cctype>
#include <chrono>

#if defined(TSP_E2E_HAVE_XML_LIB)
#include "control/xml/tunnel_xml.hpp"
#endif

namespace tsp::e2e {
namespace {

bool is_hex(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

// gogoc's cnonce: the decimal Unix time.
std::string gogoc_cnonce() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now).count());
}

void require_capability(std::string_view payload) {
  INFO("reply to VERSION: " << printable(payload));
  REQUIRE(payload.substr(0, 11) == "CAPABILITY ");
  REQUIRE(payload.size() > 13);
  REQUIRE(payload.substr(payload.size() - 2) == "\r\n");
}

}  // namespace

FramedReply require_framed(std::string_view payload) {
  auto parsed = parse_framed_reply(payload);
  if (auto* error = std::get_if<std::string>(&parsed)) FAIL(*error << " in reply " << printable(payload));
  return std::get<FramedReply>(std::move(parsed));
}

OfferFields require_offer(const FramedReply& reply) {
  INFO("offer reply body: " << printable(reply.status_line + reply.xml));
  REQUIRE(printable(reply.status_line) == printable(kSuccess));
  auto parsed = parse_offer(reply.xml);
  if (auto* error = std::get_if<std::string>(&parsed)) FAIL("offer XML unreadable: " << *error);
  OfferFields offer = std::get<OfferFields>(std::move(parsed));
  CHECK(offer.action == "info");
  CHECK(offer.lifetime == "604800");
  CHECK(offer.server_ipv4 == "127.0.0.1");
  CHECK(is_expanded_ipv6(offer.server_ipv6));
  CHECK(is_expanded_ipv6(offer.client_ipv6));
  INFO("gogoc crashes without <client><dns_server><address type=\"ipv6\"> (spec §3.3 rule 2)");
  CHECK(is_expanded_ipv6(offer.dns_server_ipv6));
  CHECK(reply.xml.find("<?xml") == std::string::npos);
#if defined(TSP_E2E_HAVE_XML_LIB)
  // Our own tspc reads offers with control/xml: it must understand the daemon too.
  const auto ours = tsp::xml::parse_offer_xml(reply.xml);
  if (const auto* error = std::get_if<std::string>(&ours)) FAIL("control/xml cannot read the offer: " << *error);
#endif
  return offer;
}

DigestChallenge require_digest_challenge(std::string_view payload) {
  INFO("reply to AUTHENTICATE DIGEST-MD5: " << printable(payload));
  REQUIRE(payload.size() > 6);
  REQUIRE(payload.substr(payload.size() - 2) == "\r\n");
  INFO("the base64 must start with cmVh (realm=) so gogoc's atoi() sees no status code");
  REQUIRE(payload.substr(0, 4) == "cmVh");
  const auto decoded = base64_decode(payload.substr(0, payload.size() - 2));
  REQUIRE(decoded.has_value());
  INFO("decoded challenge: " << printable(*decoded));
  const auto challenge = parse_digest_challenge(*decoded);
  REQUIRE(challenge.has_value());
  CHECK(is_hex(challenge->nonce));
  const std::string expected = "realm=\"tspbroker\",nonce=\"" + challenge->nonce +
                               "\",qop=auth,algorithm=md5-sess,charset=utf-8";
  REQUIRE(*decoded == expected);
  return *challenge;
}

DigestStep digest_step(const DigestChallenge& challenge, std::string_view user, std::string_view password,
                       uint16_t port) {
  const DigestClientAnswer answer =
      digest_md5_answer(challenge, user, password, "127.0.0.1:" + std::to_string(port), gogoc_cnonce());
  return DigestStep{base64_encode(answer.response_text) + "\r\n", base64_encode(answer.expected_rspauth) + "\r\n"};
}

void require_rspauth(std::string_view payload, const DigestStep& step) {
  INFO("reply to the DIGEST-MD5 response: " << printable(payload));
  REQUIRE(payload.size() > 2);
  REQUIRE(payload.substr(payload.size() - 2) == "\r\n");
  const auto decoded = base64_decode(payload.substr(0, payload.size() - 2));
  REQUIRE(decoded.has_value());
  const auto expected = base64_decode(step.expected_reply.substr(0, step.expected_reply.size() - 2));
  REQUIRE(*decoded == *expected);
  REQUIRE(payload == step.expected_reply);
}

void udp_hello(RudpClient& c, std::string_view version) {
  const RudpReply r = c.request(version_line(version));
  require_capability(r.payload);
}

void udp_login_anonymous(RudpClient& c) {
  const RudpReply r = c.request(authenticate_line("ANONYMOUS"));
  REQUIRE(printable(r.payload) == printable(kSuccess));
}

void udp_login_plain(RudpClient& c, std::string_view user, std::string_view password) {
  const RudpReply ack = c.request(authenticate_line("PLAIN"));
  INFO("over UDP the daemon acknowledges AUTHENTICATE PLAIN with a header-only datagram");
  REQUIRE(printable(ack.payload) == printable(""));
  const RudpReply r = c.request(plain_blob(user, password));
  REQUIRE(printable(r.payload) == printable(kSuccess));
}

void udp_login_digest(RudpClient& c, std::string_view user, std::string_view password, uint16_t port) {
  const DigestChallenge challenge = require_digest_challenge(c.request(authenticate_line("DIGEST-MD5")).payload);
  const DigestStep step = digest_step(challenge, user, password, port);
  require_rspauth(c.request(step.message).payload, step);
  INFO("after rspauth gogoc sends a header-only datagram and reads the final status");
  const RudpReply r = c.request("");
  REQUIRE(printable(r.payload) == printable(kSuccess));
}

FramedReply udp_create(RudpClient& c, const TunnelRequestSpec& spec) {
  return require_framed(c.request(create_request(spec)).payload);
}

OfferFields udp_create_offer(RudpClient& c, const TunnelRequestSpec& spec) {
  return require_offer(udp_create(c, spec));
}

void udp_accept(RudpClient& c) {
  const RudpReply r = c.request(kAccept);
  INFO("over UDP the accept gets a header-only reply");
  REQUIRE(printable(r.payload) == printable(""));
}

void tcp_hello(TcpClient& c, std::string_view version) {
  c.send(version_line(version));
  require_capability(c.read_reply());
}

void tcp_login_anonymous(TcpClient& c) {
  c.send(authenticate_line("ANONYMOUS"));
  REQUIRE(printable(c.read_reply()) == printable(kSuccess));
}

void tcp_login_plain(TcpClient& c, std::string_view user, std::string_view password) {
  c.send(authenticate_line("PLAIN"));
  const TcpRead silence = c.recv_once(kSilenceWindow);
  INFO("over TCP the daemon must not answer AUTHENTICATE PLAIN; it sent " << printable(silence.data));
  REQUIRE(silence.kind == TcpRead::Kind::Timeout);
  c.send(plain_blob(user, password));
  REQUIRE(printable(c.read_reply()) == printable(kSuccess));
}

void tcp_login_digest(TcpClient& c, std::string_view user, std::string_view password, uint16_t port) {
  c.send(authenticate_line("DIGEST-MD5"));
  const DigestChallenge challenge = require_digest_challenge(c.read_reply());
  const DigestStep step = digest_step(challenge, user, password, port);
  c.send(step.message);
  INFO("gogoc reads with one recv(): the rspauth line must come alone");
  require_rspauth(c.read_reply(), step);
  INFO("then the daemon pushes the final status by itself, as a separate segment");
  REQUIRE(printable(c.read_reply()) == printable(kSuccess));
}

FramedReply tcp_create(TcpClient& c, const TunnelRequestSpec& spec) {
  c.send(create_request(spec));
  return require_framed(c.read_reply());
}

OfferFields tcp_create_offer(TcpClient& c, const TunnelRequestSpec& spec) { return require_offer(tcp_create(c, spec)); }

void tcp_accept(TcpClient& c) {
  c.send(kAccept);
  const TcpRead r = c.recv_once(kSilenceWindow);
  INFO("over TCP the accept gets no answer and the connection stays open; got " << printable(r.data));
  REQUIRE(r.kind == TcpRead::Kind::Timeout);
}

void require_fresh_sessions_work(uint16_t port) {
  INFO("a new client, after what the test did before");
  TunnelRequestSpec spec;
  spec.client_ipv4 = unique_loopback_source();
  {
    RudpClient udp(port, spec.client_ipv4);
    udp_hello(udp);
    udp_login_anonymous(udp);
    udp_create_offer(udp, spec);
  }
  spec.client_ipv4 = unique_loopback_source();
  TcpClient tcp(port, spec.client_ipv4);
  tcp_hello(tcp);
  tcp_login_anonymous(tcp);
  tcp_create_offer(tcp, spec);
}

}  // namespace tsp::e2e
