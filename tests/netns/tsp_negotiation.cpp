#include "tests/netns/tsp_negotiation.hpp"

#include <algorithm>
#include <chrono>
#include <variant>

#include "tests/e2e/gogoc_digest_md5.hpp"

namespace tsp::netns {
namespace {

using e2e::printable;

[[noreturn]] void refused(const std::string& step, std::string_view answer) {
  throw NegotiationError(step + ": the broker answered " + printable(answer, 400));
}

void expect_success(const std::string& step, std::string_view answer) {
  if (answer != e2e::kSuccess) refused(step, answer);
}

bool advertises(std::string_view capability, std::string_view token) {
  // Tokens are separated by spaces and the line ends with CRLF.
  size_t at = 0;
  while ((at = capability.find(token, at)) != std::string_view::npos) {
    const size_t end = at + token.size();
    const bool starts = at > 0 && capability[at - 1] == ' ';
    const bool ends = end == capability.size() || capability[end] == ' ' || capability[end] == '\r';
    if (starts && ends) return true;
    at = end;
  }
  return false;
}

void authenticate_digest(ControlChannel& c, const NegotiationSettings& s) {
  const std::string challenge_line = c.request(e2e::authenticate_line("DIGEST-MD5"));
  if (challenge_line.size() < 3 || challenge_line.substr(challenge_line.size() - 2) != "\r\n")
    refused("AUTHENTICATE DIGEST-MD5", challenge_line);
  const auto decoded = e2e::base64_decode(std::string_view(challenge_line).substr(0, challenge_line.size() - 2));
  const auto challenge = decoded ? e2e::parse_digest_challenge(*decoded) : std::nullopt;
  if (!challenge) refused("AUTHENTICATE DIGEST-MD5 (challenge unreadable)", challenge_line);

  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const std::string cnonce = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now).count());
  const e2e::DigestClientAnswer answer =
      e2e::digest_md5_answer(*challenge, *s.user, s.password.value_or(""), s.server_setting, cnonce);
  const std::string rspauth = c.request(e2e::base64_encode(answer.response_text) + "\r\n");
  if (rspauth != e2e::base64_encode(answer.expected_rspauth) + "\r\n") refused("DIGEST-MD5 response", rspauth);
  // After rspauth gogoc asks with an empty RUDP message; over TCP the server pushes the status.
  expect_success("DIGEST-MD5 final status", c.is_udp() ? c.request("") : c.read_pushed());
}

void authenticate_plain(ControlChannel& c, const NegotiationSettings& s) {
  c.send_only(e2e::authenticate_line("PLAIN"));
  expect_success("PLAIN credentials", c.request(e2e::plain_blob(*s.user, s.password.value_or(""))));
}

void authenticate(ControlChannel& c, const NegotiationSettings& s, std::string_view capability) {
  if (!s.user) {
    if (!advertises(capability, "AUTH=ANONYMOUS")) refused("ANONYMOUS is not offered", capability);
    expect_success("AUTHENTICATE ANONYMOUS", c.request(e2e::authenticate_line("ANONYMOUS")));
  } else if (advertises(capability, "AUTH=DIGEST-MD5")) {
    authenticate_digest(c, s);
  } else if (advertises(capability, "AUTH=PLAIN")) {
    authenticate_plain(c, s);
  } else {
    refused("no common authentication mechanism", capability);
  }
}

Ipv4Addr parse_v4(const std::string& text, const char* what) {
  if (auto a = Ipv4Addr::parse(text)) return *a;
  throw NegotiationError(std::string("offer: ") + what + " \"" + text + "\" is not an IPv4 address");
}

Ipv6Addr parse_v6(const std::string& text, const char* what) {
  if (auto a = Ipv6Addr::parse(text)) return *a;
  throw NegotiationError(std::string("offer: ") + what + " \"" + text + "\" is not an IPv6 address");
}

unsigned parse_count(const std::string& text, unsigned max, const char* what) {
  if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(text) > max)
    throw NegotiationError(std::string("offer: ") + what + " \"" + text + "\" is not a number up to " +
                           std::to_string(max));
  return static_cast<unsigned>(std::stoul(text));
}

}  // namespace

Offer read_offer(const e2e::OfferFields& f) {
  Offer o;
  if (f.type != "v6v4" && f.type != "v6udpv4") throw NegotiationError("offer: unexpected tunnel type \"" + f.type + "\"");
  o.type = f.type;
  o.server_ipv4 = parse_v4(f.server_ipv4, "server ipv4");
  o.client_ipv4 = parse_v4(f.client_ipv4, "client ipv4");
  o.server_ipv6 = parse_v6(f.server_ipv6, "server ipv6");
  o.client_ipv6 = parse_v6(f.client_ipv6, "client ipv6");
  if (!f.prefix.empty() || !f.prefix_length.empty()) {
    const unsigned length = parse_count(f.prefix_length, 128, "prefix length");
    // Cut after ceil(len/16) groups (what gogoc makes of it) or whole: both read the same.
    const size_t groups = static_cast<size_t>(std::count(f.prefix.begin(), f.prefix.end(), ':')) + 1;
    const std::string text = groups < 8 ? f.prefix + "::" : f.prefix;
    o.prefix = Ipv6Prefix{parse_v6(text, "prefix").masked(length), static_cast<uint8_t>(length)};
  }
  if (!f.keepalive_interval.empty()) o.keepalive_interval = parse_count(f.keepalive_interval, 86400, "keepalive interval");
  if (!f.keepalive_address.empty()) o.keepalive_address = parse_v6(f.keepalive_address, "keepalive address");
  return o;
}

NegotiatedTunnel negotiate(const NegotiationSettings& s) {
  std::unique_ptr<ControlChannel> c = s.over_tcp ? open_tcp_channel(s.server, s.bind) : open_udp_channel(s.server, s.bind);

  const std::string capability = c->request(e2e::version_line("2.0.2"));
  if (capability.rfind("CAPABILITY ", 0) != 0) refused("VERSION=2.0.2", capability);
  authenticate(*c, s, capability);

  const Endpoint local = c->local_endpoint();
  e2e::TunnelRequestSpec spec;
  spec.type = s.mode;
  spec.client_ipv4 = s.declared_ipv4.value_or(local.address).to_string();
  spec.keepalive_interval = s.keepalive_interval;
  spec.router_prefix_length = s.router_prefix_length;
  const std::string reply = c->request(e2e::create_request(spec));
  auto framed = e2e::parse_framed_reply(reply);
  if (auto* error = std::get_if<std::string>(&framed)) refused("tunnel request (" + *error + ")", reply);
  const e2e::FramedReply& answer = std::get<e2e::FramedReply>(framed);
  if (answer.status != 200) refused("tunnel request", answer.status_line);
  auto fields = e2e::parse_offer(answer.xml);
  if (auto* error = std::get_if<std::string>(&fields)) refused("offer XML (" + *error + ")", answer.xml);
  Offer offer = read_offer(std::get<e2e::OfferFields>(fields));

  c->send_only(e2e::kAccept);
  return NegotiatedTunnel{std::move(offer), local, std::move(c)};
}

}  // namespace tsp::netns
