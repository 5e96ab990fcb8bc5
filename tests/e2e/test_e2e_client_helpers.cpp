// The e2e client checked on its own (no daemon): its DIGEST-MD5 arithmetic against RFC 2831's
// example and its messages against the sizes gogoc was seen to send. Where control/auth and
// control/xml are built, the project's client helpers (what tspc uses) must agree with it.
#include <catch2/catch.hpp>

#include "tests/e2e/gogoc_digest_md5.hpp"
#include "tests/e2e/tsp_messages.hpp"

#if defined(TSP_E2E_HAVE_AUTH_LIB)
#include "control/auth/digest_md5_client.hpp"
#endif
#if defined(TSP_E2E_HAVE_XML_LIB)
#include "control/xml/tunnel_xml.hpp"
#endif

namespace tsp::e2e {
namespace {

ExpectedHostOffer spec_example_a() {
  ExpectedHostOffer o;
  o.type = "v6udpv4";
  o.server_ipv4 = "203.0.113.1";
  o.server_ipv6 = "2001:0db8:0000:0000:0000:0000:0000:0001";
  o.client_ipv4 = "198.51.100.7";
  o.client_ipv6 = "2001:0db8:0000:0000:0000:0000:0000:0002";
  return o;
}

constexpr std::string_view kGogocChallenge =
    "realm=\"tspbroker\",nonce=\"4A5B6C7D\",qop=auth,algorithm=md5-sess,charset=utf-8";

}  // namespace

TEST_CASE("e2e client: DIGEST-MD5 arithmetic of RFC 2831's example", "[e2e][client]") {
  const DigestChallenge challenge{"elwood.innosoft.com", "OA6MG9tEQGm2hh", "auth", "md5-sess", "utf-8"};
  const DigestClientAnswer answer =
      digest_md5_answer_for_uri(challenge, "chris", "secret", "imap/elwood.innosoft.com", "OA6MHXh6VqTrRk");
  CHECK(answer.response_text.find(",response=d388dad90d4bbd760a152321f2143af7,") != std::string::npos);
  CHECK(answer.expected_rspauth == "rspauth=ea40f60335c427b5527b84dbabcdfffd");
}

TEST_CASE("e2e client: gogoc's message sizes, challenge reader and base64", "[e2e][client]") {
  CHECK(request_xml({}).size() == 214);
  TunnelRequestSpec nat;
  nat.client_ipv4 = "192.168.1.10";
  CHECK(request_xml(nat).size() == 217);
  CHECK(authenticate_line("ANONYMOUS").size() == 25);
  CHECK(kAccept.substr(kAccept.find('\n') + 1).size() == 35);

  const auto challenge = parse_digest_challenge(kGogocChallenge);
  REQUIRE(challenge);
  CHECK(challenge->realm == "tspbroker");
  CHECK(challenge->nonce == "4A5B6C7D");
  CHECK(challenge->charset == "utf-8");
  CHECK_FALSE(parse_digest_challenge("realm=\"r\",nonce=\"n\",qop=auth"));  // no charset

  CHECK(base64_encode(kGogocChallenge).substr(0, 4) == "cmVh");
  for (std::string_view text : {std::string_view(""), std::string_view("a"), std::string_view("abcd"), std::string_view("\0\xff\x10", 3)})
    CHECK(base64_decode(base64_encode(text)).value_or("?") == text);
  CHECK_FALSE(base64_decode("cmVh!A=="));
  CHECK_FALSE(base64_decode("cmV"));
  CHECK_FALSE(base64_decode("c=Vh"));
}

TEST_CASE("e2e client: reads the spec's offer (a) and its framing", "[e2e][client]") {
  const std::string reply = expected_host_offer_reply(spec_example_a());
  const auto framed = parse_framed_reply(reply);
  REQUIRE(std::holds_alternative<FramedReply>(framed));
  CHECK(std::get<FramedReply>(framed).status == 200);
  const auto offer = parse_offer(std::get<FramedReply>(framed).xml);
  REQUIRE(std::holds_alternative<OfferFields>(offer));
  const OfferFields& f = std::get<OfferFields>(offer);
  CHECK(f.type == "v6udpv4");
  CHECK(f.client_ipv4 == "198.51.100.7");
  CHECK(f.client_ipv6 == "2001:0db8:0000:0000:0000:0000:0000:0002");
  CHECK(f.dns_server_ipv6 == "2001:0db8:0000:0000:0000:0000:0000:0053");
  CHECK(f.keepalive_interval == "30");
  CHECK(f.keepalive_address == f.server_ipv6);

  CHECK(std::holds_alternative<std::string>(parse_framed_reply("Content-length: 5\r\n200 Success\r\n")));
  CHECK(std::holds_alternative<std::string>(parse_framed_reply("content-length: 13\r\n200 Success\r\n")));
  CHECK(std::holds_alternative<std::string>(parse_offer("<tunnel><server></tunnel>")));
}

#if defined(TSP_E2E_HAVE_AUTH_LIB)
TEST_CASE("control/auth's DIGEST-MD5 client says what the e2e client says", "[e2e][client]") {
  const auto challenge = parse_digest_challenge(kGogocChallenge);
  REQUIRE(challenge);
  for (std::string_view user : {"alice", "we\"ird\\name"}) {
    INFO("user " << user);
    const DigestClientAnswer ours = digest_md5_answer(*challenge, user, "pw", "127.0.0.1:3653", "1795417218");
    const auto theirs = tsp::auth::digest_md5_client_response(kGogocChallenge, user, "pw", "127.0.0.1:3653", "1795417218");
    REQUIRE(std::holds_alternative<std::string>(theirs));
    CHECK(std::get<std::string>(theirs) == ours.response_text);
    CHECK(tsp::auth::digest_md5_client_check_rspauth(ours.expected_rspauth, kGogocChallenge, user, "pw",
                                                     "127.0.0.1:3653", "1795417218"));
  }
}
#endif

#if defined(TSP_E2E_HAVE_XML_LIB)
TEST_CASE("control/xml writes the requests and offers the e2e client expects", "[e2e][client]") {
  tsp::xml::RequestSpec theirs;
  theirs.type = "v6anyv4";
  theirs.client_ipv4 = "127.0.0.1";
  theirs.keepalive_interval = 30;
  TunnelRequestSpec ours;
  CHECK(printable(tsp::xml::write_request_xml(theirs)) == printable(request_xml(ours)));

  theirs.router = true;
  theirs.prefix_length = 64;
  theirs.dns_names = {"ns1.example.net", "ns2.example.net"};
  ours.router_prefix_length = 64;
  ours.dns_names = theirs.dns_names;
  CHECK(printable(tsp::xml::write_request_xml(theirs)) == printable(request_xml(ours)));

  const ExpectedHostOffer a = spec_example_a();
  tsp::xml::TunnelOffer offer;
  offer.type = a.type;
  offer.server_v4 = *Ipv4Addr::parse(a.server_ipv4);
  offer.server_v6 = *Ipv6Addr::parse(a.server_ipv6);
  offer.client_v4 = *Ipv4Addr::parse(a.client_ipv4);
  offer.client_v6 = *Ipv6Addr::parse(a.client_ipv6);
  offer.dns_server = *Ipv6Addr::parse(a.dns_server_ipv6);
  offer.keepalive_interval = 30;
  offer.keepalive_address = offer.server_v6;
  CHECK(printable(tsp::xml::write_offer_xml(offer)) == printable(expected_host_offer_xml(a)));
  CHECK(std::holds_alternative<tsp::xml::ParsedOffer>(tsp::xml::parse_offer_xml(expected_host_offer_xml(a))));
}
#endif

}  // namespace tsp::e2e
