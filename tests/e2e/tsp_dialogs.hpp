// The steps of a TSP session as gogoc runs them, each asserting the daemon's exact answer
// (tsp-protocol.md §1.6-§3.4). Tests compose them and check the interesting step by hand.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tests/e2e/gogoc_digest_md5.hpp"
#include "tests/e2e/tsp_messages.hpp"
#include "tests/e2e/tsp_test_client.hpp"

namespace tsp::e2e {

// The reply must be Content-length framed with a correct N (fails the test otherwise).
FramedReply require_framed(std::string_view payload);
// The framed reply must be "200 Success" with an offer gogoc can read.
OfferFields require_offer(const FramedReply& reply);

// The decoded challenge must read exactly
// realm="tspbroker",nonce="<hex>",qop=auth,algorithm=md5-sess,charset=utf-8 and arrive as
// base64 starting with "cmVh" plus CRLF.
DigestChallenge require_digest_challenge(std::string_view payload);

struct DigestStep {
  std::string message;          // base64(response) + CRLF, as gogoc sends it
  std::string expected_reply;   // base64("rspauth=<hex>") + CRLF, what a good server answers
};
// gogoc's answer to `challenge`; digest-uri is "tsp/127.0.0.1:<port>" as gogoc builds it from
// its server= setting.
DigestStep digest_step(const DigestChallenge& challenge, std::string_view user, std::string_view password,
                       uint16_t port);
// The rspauth line must be the expected one: checked by decoding, as gogoc does.
void require_rspauth(std::string_view payload, const DigestStep& step);

// --- over UDP ---
void udp_hello(RudpClient& c, std::string_view version = "2.0.2");  // CAPABILITY ...
void udp_login_anonymous(RudpClient& c);
void udp_login_plain(RudpClient& c, std::string_view user, std::string_view password);
void udp_login_digest(RudpClient& c, std::string_view user, std::string_view password, uint16_t port);
FramedReply udp_create(RudpClient& c, const TunnelRequestSpec& spec);
OfferFields udp_create_offer(RudpClient& c, const TunnelRequestSpec& spec);
void udp_accept(RudpClient& c);  // the answer is header-only

// --- over TCP ---
void tcp_hello(TcpClient& c, std::string_view version = "2.0.2");
void tcp_login_anonymous(TcpClient& c);
void tcp_login_plain(TcpClient& c, std::string_view user, std::string_view password);
void tcp_login_digest(TcpClient& c, std::string_view user, std::string_view password, uint16_t port);
FramedReply tcp_create(TcpClient& c, const TunnelRequestSpec& spec);
OfferFields tcp_create_offer(TcpClient& c, const TunnelRequestSpec& spec);
void tcp_accept(TcpClient& c);  // no answer at all

// A new anonymous client (from an address of its own) gets an offer over UDP and over TCP:
// the daemon still serves.
void require_fresh_sessions_work(uint16_t port);

}  // namespace tsp::e2e
