// tspc reading the broker: status lines, CAPABILITY, Content-length framing, and what each
// status and capability set means (mechanism choice, exit codes).
#include <catch2/catch.hpp>

#include <variant>

#include "tools/tspc/mechanism_choice.hpp"
#include "tools/tspc/reply_parser.hpp"
#include "tools/tspc/status_mapping.hpp"

using namespace tsp::tspc;

TEST_CASE("leading status code is atoi() of the leading digits", "[tspc][reply]") {
  CHECK(leading_status_code("200 Success\r\n") == 200);
  CHECK(leading_status_code("1200 Redirection\r\n") == 1200);
  CHECK(leading_status_code("302") == 302);
  CHECK_FALSE(leading_status_code("cmVhbG09").has_value());
  CHECK_FALSE(leading_status_code("").has_value());
  CHECK_FALSE(leading_status_code(" 200").has_value());
  CHECK(leading_status_code("99999999999999") == 999999999);  // at most 9 digits read
  CHECK(first_line("300 Authentication failed\r\nmore") == "300 Authentication failed");
  CHECK(first_line(std::string("a\x01" "b\n", 4)) == "a?b");
}

TEST_CASE("CAPABILITY line parsing follows gogoc's rules", "[tspc][reply]") {
  const auto c = parse_capability_line("CAPABILITY TUNNEL=V6V4 TUNNEL=V6UDPV4 AUTH=DIGEST-MD5 AUTH=PLAIN AUTH=ANONYMOUS\r\n");
  REQUIRE(c);
  CHECK(c->v6v4);
  CHECK(c->v6udpv4);
  CHECK_FALSE(c->v4v6);
  CHECK(c->digest_md5);
  CHECK(c->plain);
  CHECK(c->anonymous);
  CHECK_FALSE(c->passdss);
  CHECK(describe(*c) == "TUNNEL=V6V4 TUNNEL=V6UDPV4 AUTH=DIGEST-MD5 AUTH=PLAIN AUTH=ANONYMOUS");

  SECTION("AUTH values are case-insensitive, TUNNEL values and keys are not") {
    const auto d = parse_capability_line("CAPABILITY TUNNEL=v6v4 AUTH=digest-md5 auth=PLAIN TUNNEL=V6ANYV4");
    REQUIRE(d);
    CHECK_FALSE(d->v6v4);
    CHECK(d->digest_md5);
    CHECK_FALSE(d->plain);
    CHECK(describe(*d) == "AUTH=DIGEST-MD5");
  }
  SECTION("anything but exactly \"CAPABILITY \" is a status") {
    CHECK_FALSE(parse_capability_line("capability TUNNEL=V6V4"));
    CHECK_FALSE(parse_capability_line("CAPABILITY"));
    CHECK_FALSE(parse_capability_line("302 Unsupported client version\r\n"));
  }
  SECTION("NUL and odd tokens are harmless") {
    std::string line = "CAPABILITY AUTH=ANONYMOUS";
    line += '\0';
    line += "garbage= =x TUNNEL=";
    const auto e = parse_capability_line(line);
    REQUIRE(e);
    CHECK(e->anonymous);
    CHECK(describe(Capabilities{}) == "(nothing usable)");
  }
}

TEST_CASE("Content-length framed replies", "[tspc][reply]") {
  const std::string body = "200 Success\r\n<tunnel action=\"info\"></tunnel>\r\n";
  const std::string reply = "Content-length: " + std::to_string(body.size()) + "\r\n" + body;

  SECTION("complete: status, status line, XML from the first '<'") {
    const FrameParse p = parse_framed_reply(reply);
    const auto* r = std::get_if<FramedReply>(&p);
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->status_line == "200 Success");
    CHECK(r->xml == "<tunnel action=\"info\"></tunnel>\r\n");
    CHECK(std::get<size_t>(framed_reply_size(reply)) == reply.size());
  }
  SECTION("a trailing NUL is tolerated, other extra bytes are not") {
    CHECK(std::holds_alternative<FramedReply>(parse_framed_reply(reply + std::string(1, '\0'))));
    const FrameParse p = parse_framed_reply(reply + "x");
    REQUIRE(std::holds_alternative<std::string>(p));
    CHECK(std::get<std::string>(p).find("longer than its Content-length") != std::string::npos);
  }
  SECTION("short replies are incomplete and say how much is needed") {
    const FrameParse p = parse_framed_reply(reply.substr(0, reply.size() - 5));
    REQUIRE(std::holds_alternative<FrameIncomplete>(p));
    CHECK(std::get<FrameIncomplete>(p).total_size == reply.size());
    CHECK(std::get<FrameIncomplete>(parse_framed_reply("Content-le")).total_size == 0);
    CHECK(std::get<FrameIncomplete>(parse_framed_reply("Content-length: 12")).total_size == 0);
  }
  SECTION("header errors") {
    CHECK(std::holds_alternative<std::string>(parse_framed_reply("content-length: 3\r\n200")));  // gogoc wants the capital C
    CHECK(std::holds_alternative<std::string>(parse_framed_reply("200 Success\r\n")));
    CHECK(std::holds_alternative<std::string>(parse_framed_reply("Content-length: x1\r\n200")));
    CHECK(std::holds_alternative<std::string>(parse_framed_reply("Content-length: \r\n")));
    CHECK(std::holds_alternative<std::string>(parse_framed_reply("Content-length: 99999\r\n")));
    CHECK(std::holds_alternative<std::string>(parse_framed_reply("Content-length: 3\r\nabc")));  // no status code
    CHECK(std::holds_alternative<std::string>(parse_framed_reply("Content-length:" + std::string(80, ' '))));
  }
  SECTION("an error status without XML") {
    const FrameParse p = parse_framed_reply("Content-length: 27\r\n506 IPv4 address in use\r\n\r\n");
    REQUIRE(std::holds_alternative<FramedReply>(p));
    CHECK(std::get<FramedReply>(p).status == 506);
    CHECK(std::get<FramedReply>(p).xml.empty());
  }
  SECTION("1200 with a broker list") {
    const std::string redirect_body =
        "1200 Redirection\r\n<tunnel action=\"info\" type=\"v6anyv4\" lifetime=\"604800\">\r\n <broker>\r\n"
        "  <address type=\"ipv4\">192.0.2.7</address>\r\n </broker>\r\n</tunnel>\r\n";
    const FrameParse p = parse_framed_reply("Content-length: " + std::to_string(redirect_body.size()) + "\r\n" + redirect_body);
    REQUIRE(std::holds_alternative<FramedReply>(p));
    CHECK(std::get<FramedReply>(p).status == 1200);
    CHECK(is_redirect_status(std::get<FramedReply>(p).status));
    CHECK(std::get<FramedReply>(p).xml.rfind("<tunnel action=\"info\"", 0) == 0);
  }
}

TEST_CASE("mechanism choice: anonymous, or the strongest both sides have", "[tspc][auth]") {
  const auto caps = [](const char* line) { return *parse_capability_line(line); };
  const Capabilities all = caps("CAPABILITY TUNNEL=V6V4 AUTH=PASSDSS-3DES-1 AUTH=DIGEST-MD5 AUTH=PLAIN AUTH=ANONYMOUS");
  const Capabilities plain_anon = caps("CAPABILITY TUNNEL=V6V4 AUTH=PLAIN AUTH=ANONYMOUS");
  const Capabilities anon_only = caps("CAPABILITY TUNNEL=V6V4 AUTH=ANONYMOUS");
  const Capabilities digest_only = caps("CAPABILITY TUNNEL=V6V4 AUTH=DIGEST-MD5");
  const Capabilities passdss_only = caps("CAPABILITY TUNNEL=V6V4 AUTH=PASSDSS-3DES-1");
  // tspbrokerd's default list; SCRAM-SHA-256 is ours, not the legacy brokers'.
  const Capabilities ours = caps("CAPABILITY TUNNEL=V6V4 AUTH=SCRAM-SHA-256 AUTH=DIGEST-MD5 AUTH=PLAIN AUTH=ANONYMOUS");
  const Capabilities scram_only = caps("CAPABILITY TUNNEL=V6V4 AUTH=scram-sha-256");

  CHECK(choose_mechanism(AuthMethod::Any, false, all) == Mechanism::DigestMd5);
  CHECK(choose_mechanism(AuthMethod::Any, false, plain_anon) == Mechanism::Plain);
  CHECK(choose_mechanism(AuthMethod::Any, false, anon_only) == std::nullopt);  // never falls back
  CHECK(choose_mechanism(AuthMethod::Any, false, passdss_only) == std::nullopt);  // not implemented
  CHECK(choose_mechanism(AuthMethod::Any, true, all) == Mechanism::Anonymous);
  CHECK(choose_mechanism(AuthMethod::Any, true, digest_only) == std::nullopt);
  CHECK(choose_mechanism(AuthMethod::DigestMd5, false, all) == Mechanism::DigestMd5);
  CHECK(choose_mechanism(AuthMethod::DigestMd5, false, plain_anon) == std::nullopt);
  CHECK(choose_mechanism(AuthMethod::Plain, false, all) == Mechanism::Plain);
  CHECK(choose_mechanism(AuthMethod::Plain, false, digest_only) == std::nullopt);
  CHECK(choose_mechanism(AuthMethod::Anonymous, false, all) == Mechanism::Anonymous);
  CHECK(choose_mechanism(AuthMethod::Anonymous, false, digest_only) == std::nullopt);
  CHECK(choose_mechanism(AuthMethod::Any, false, ours) == Mechanism::ScramSha256);
  CHECK(choose_mechanism(AuthMethod::Any, false, scram_only) == Mechanism::ScramSha256);
  CHECK(choose_mechanism(AuthMethod::ScramSha256, false, ours) == Mechanism::ScramSha256);
  CHECK(choose_mechanism(AuthMethod::ScramSha256, false, all) == std::nullopt);
  CHECK(choose_mechanism(AuthMethod::DigestMd5, false, ours) == Mechanism::DigestMd5);
  CHECK(choose_mechanism(AuthMethod::Plain, false, scram_only) == std::nullopt);
  CHECK(describe(ours) == "TUNNEL=V6V4 AUTH=SCRAM-SHA-256 AUTH=DIGEST-MD5 AUTH=PLAIN AUTH=ANONYMOUS");
  CHECK(to_string(Mechanism::DigestMd5) == "DIGEST-MD5");
  CHECK(to_string(Mechanism::ScramSha256) == "SCRAM-SHA-256");
}

TEST_CASE("status code to exit code, per step", "[tspc][status]") {
  using S = NegotiationStep;
  struct Row {
    S step;
    int status;
    ExitCode code;
  };
  const Row table[] = {
      {S::Version, 200, ExitCode::Success},
      {S::Version, 302, ExitCode::InvalidTspVersion},
      {S::Version, 530, ExitCode::ServerTooBusy},
      {S::Version, 300, ExitCode::TspGenericError},
      {S::Version, 1200, ExitCode::BrokerRedirection},
      {S::AnonymousAuth, 300, ExitCode::TspGenericError},  // 300 is not an auth failure here
      {S::PasswordAuth, 300, ExitCode::AuthenticationFailure},
      {S::PasswordAuth, 530, ExitCode::TspGenericError},
      {S::TunnelRequest, 302, ExitCode::TspGenericError},  // only special as the answer to VERSION
      {S::TunnelRequest, 530, ExitCode::TspGenericError},
      {S::TunnelRequest, 506, ExitCode::TspGenericError},
      {S::TunnelRequest, 522, ExitCode::TspGenericError},
      {S::TunnelRequest, 1001, ExitCode::BrokerRedirection},
      {S::Accept, 310, ExitCode::TspGenericError},
  };
  for (const Row& row : table) {
    INFO(std::string(to_string(row.step)) << " " << row.status);
    CHECK(exit_code_for_status(row.step, row.status) == row.code);
  }
  CHECK_FALSE(is_redirect_status(1000));
  CHECK(is_redirect_status(1001));
  CHECK(to_int(ExitCode::AuthenticationFailure) == 16);
  CHECK(to_int(ExitCode::KeepaliveTimeout) == 21);
}
