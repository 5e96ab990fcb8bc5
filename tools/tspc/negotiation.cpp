#include "tools/tspc/negotiation.hpp"

#include <cstdio>
#include <optional>
#include <variant>

#include "control/auth/base64.hpp"
#include "control/auth/digest_md5_client.hpp"
#include "control/auth/nonce.hpp"
#include "control/auth/scram_client.hpp"
#include "tools/tspc/mechanism_choice.hpp"
#include "tools/tspc/reply_parser.hpp"
#include "tools/tspc/request_builder.hpp"
#include "tools/tspc/status_mapping.hpp"

namespace tsp::tspc {
namespace {

using Kind = NegotiationOutcome::Kind;

// Thrown inside the dialogue to end it with an outcome.
struct Finished {
  NegotiationOutcome outcome;
};

[[noreturn]] void fail(ExitCode code, std::string message) {
  NegotiationOutcome o;
  o.kind = Kind::Failed;
  o.code = code;
  o.message = std::move(message);
  throw Finished{std::move(o)};
}

class Dialogue {
 public:
  Dialogue(ControlTransport& t, const TspcConfig& cfg, const NegotiationContext& ctx) : t_(t), cfg_(cfg), ctx_(ctx) {}

  NegotiationOutcome run() {
    const Capabilities caps = version_and_capability();
    check_tunnel_mode(caps);
    authenticate(caps);
    return request_tunnel();
  }

 private:
  void log(int level, const std::string& text) const {
    if (ctx_.log) ctx_.log(level, text);
  }

  std::string exchange(std::string_view payload, bool credentials = false) {
    log(3, "sent: " + (credentials ? std::string("<credentials>") : printable_message(payload)));
    std::string reply = t_.exchange(payload);
    log(3, "received: " + printable_message(reply));
    return reply;
  }
  void send_unanswered(std::string_view payload) {
    log(3, "sent: " + printable_message(payload));
    t_.send_unanswered(payload);
  }
  std::string receive_next() {
    std::string reply = t_.receive_next();
    log(3, "received: " + printable_message(reply));
    return reply;
  }

  // A status reply that is not 200 at `step`: a redirect, or the mapped failure.
  // `status_line` is what to quote when the reply is framed (its first line is the header).
  [[noreturn]] void refuse(NegotiationStep step, int status, std::string_view reply, std::string_view status_line = {}) {
    if (is_redirect_status(status)) redirect(reply);
    const std::string shown = status_line.empty() ? first_line(reply) : std::string(status_line);
    fail(exit_code_for_status(step, status), std::string(to_string(step)) + ": the broker answered \"" + shown + "\"");
  }

  // Status > 1000 with a broker list (§6); framed after authentication, bare before.
  [[noreturn]] void redirect(std::string_view reply) {
    std::string xml;
    const FrameParse frame = parse_framed_reply(reply);
    if (const auto* framed = std::get_if<FramedReply>(&frame)) {
      xml = framed->xml;
    } else {
      const size_t lt = reply.find('<');
      if (lt != std::string_view::npos) xml = std::string(reply.substr(lt));
    }
    auto parsed = xml::parse_offer_xml(xml);
    if (const auto* error = std::get_if<std::string>(&parsed))
      fail(ExitCode::BrokerRedirection, "malformed redirection: " + *error);
    NegotiationOutcome o;
    o.kind = Kind::Redirect;
    o.brokers = std::get<xml::ParsedOffer>(parsed).brokers;
    if (o.brokers.empty()) fail(ExitCode::BrokerRedirection, "redirection without a broker list");
    throw Finished{std::move(o)};
  }

  Capabilities version_and_capability() {
    std::string reply;
    try {
      reply = exchange("VERSION=" + std::string(ctx_.version) + "\r\n");
    } catch (const TransportError& e) {
      fail(ExitCode::SocketConnectFailed, e.what());
    }
    if (const auto caps = parse_capability_line(reply)) {
      log(2, "broker capabilities: " + describe(*caps));
      return *caps;
    }
    const auto status = leading_status_code(reply);
    if (!status) fail(ExitCode::TspGenericError, "VERSION: unreadable answer \"" + first_line(reply) + "\"");
    refuse(NegotiationStep::Version, *status, reply);
  }

  void check_tunnel_mode(const Capabilities& caps) const {
    bool offered = false;
    switch (cfg_.tunnel_mode) {
      case TunnelMode::V6V4: offered = caps.v6v4; break;
      case TunnelMode::V6UdpV4: offered = caps.v6udpv4; break;
      case TunnelMode::V6AnyV4: offered = caps.v6v4 || caps.v6udpv4; break;
      case TunnelMode::V4V6: offered = false; break;  // not on Linux, as gogoc
    }
    if (!offered)
      fail(ExitCode::TunnelModeNotAvailable, "tunnel_mode " + std::string(to_string(cfg_.tunnel_mode)) +
                                                 " is not offered by the broker (" + describe(caps) + ")");
  }

  void expect_success(NegotiationStep step, std::string_view reply) {
    const auto status = leading_status_code(reply);
    if (!status) fail(ExitCode::TspGenericError, std::string(to_string(step)) + ": unreadable answer \"" + first_line(reply) + "\"");
    if (*status != 200) refuse(step, *status, reply);
  }

  void authenticate(const Capabilities& caps) {
    const auto mechanism = choose_mechanism(cfg_.auth_method, uses_anonymous(cfg_), caps);
    if (!mechanism) {
      fail(ExitCode::NoCommonAuthentication,
           "no authentication method in common: configured " + std::string(to_string(cfg_.auth_method)) +
               (uses_anonymous(cfg_) ? " (anonymous)" : "") + ", broker offers " + describe(caps));
    }
    log(2, "authenticating with " + std::string(to_string(*mechanism)));
    // gogoc sends the AUTHENTICATE lines as C strings, terminator included (§2.1).
    const std::string line = "AUTHENTICATE " + std::string(to_string(*mechanism)) + std::string("\r\n\0", 3);
    switch (*mechanism) {
      case Mechanism::Anonymous:
        expect_success(NegotiationStep::AnonymousAuth, exchange(line));
        break;
      case Mechanism::Plain: {
        send_unanswered(line);
        std::string blob(1, '\0');
        blob += cfg_.userid;
        blob += '\0';
        blob += cfg_.passwd;
        blob += "\r\n";
        expect_success(NegotiationStep::PasswordAuth, exchange(blob, true));
        break;
      }
      case Mechanism::DigestMd5:
        authenticate_digest(line);
        break;
      case Mechanism::ScramSha256:
        authenticate_scram();
        break;
    }
    log(2, "authenticated");
  }

  // A challenge-response reply we cannot use: a status (300) is the broker's refusal, as
  // gogoc reads it before decoding; anything else is the broker's fault.
  [[noreturn]] void unusable_password_reply(std::string_view reply, std::string why) {
    if (const auto status = leading_status_code(reply)) refuse(NegotiationStep::PasswordAuth, *status, reply);
    fail(ExitCode::AuthenticationFailure, std::move(why));
  }

  void authenticate_digest(const std::string& line) {
    const std::string challenge_reply = exchange(line);
    const auto challenge = auth::base64_decode(challenge_reply);
    std::variant<std::string, auth::DigestClientError> response = auth::DigestClientError{"the challenge is not base64"};
    if (challenge) {
      response = auth::digest_md5_client_response(*challenge, cfg_.userid, cfg_.passwd, ctx_.server_text, ctx_.cnonce);
    }
    if (const auto* error = std::get_if<auth::DigestClientError>(&response)) {
      unusable_password_reply(challenge_reply, "DIGEST-MD5 challenge unusable: " + error->reason);
    }
    log(3, "DIGEST-MD5 challenge: " + printable_message(*challenge));
    const std::string rspauth_reply = exchange(auth::base64_encode(std::get<std::string>(response)) + "\r\n", true);
    // gogoc looks for a status (300) before decoding.
    const auto rspauth = auth::base64_decode(rspauth_reply);
    if (!rspauth || !auth::digest_md5_client_check_rspauth(*rspauth, *challenge, cfg_.userid, cfg_.passwd, ctx_.server_text, ctx_.cnonce)) {
      unusable_password_reply(rspauth_reply, "DIGEST-MD5: the broker's rspauth does not prove it knows the password");
    }
    expect_success(NegotiationStep::PasswordAuth, receive_next());
  }

  // SCRAM-SHA-256 as tspbrokerd speaks it (README): the client-first message on the
  // AUTHENTICATE line, then base64 lines both ways, the server-final, then the status.
  void authenticate_scram() {
    std::optional<auth::ScramSha256Client> client;
    try {
      client.emplace(cfg_.userid, cfg_.passwd, auth::make_nonce());
    } catch (const std::invalid_argument& e) {
      fail(ExitCode::AuthenticationFailure, std::string("SCRAM-SHA-256: ") + e.what());
    }
    const std::string line = "AUTHENTICATE SCRAM-SHA-256 " + auth::base64_encode(client->client_first()) + "\r\n";
    const std::string first_reply = exchange(line);
    const auto server_first = auth::base64_decode(first_reply);
    std::variant<std::string, auth::ScramFailure> final_message = auth::ScramFailure{"the server-first message is not base64"};
    if (server_first) final_message = client->client_final(*server_first);
    if (const auto* error = std::get_if<auth::ScramFailure>(&final_message)) {
      unusable_password_reply(first_reply, "SCRAM-SHA-256 server-first message unusable: " + error->reason);
    }
    log(3, "SCRAM-SHA-256 server-first: " + printable_message(*server_first));
    const std::string final_reply = exchange(auth::base64_encode(std::get<std::string>(final_message)) + "\r\n", true);
    const auto server_final = auth::base64_decode(final_reply);
    if (!server_final || !client->check_server_final(*server_final)) {
      unusable_password_reply(final_reply, "SCRAM-SHA-256: the broker's server-final message does not prove it holds the keys");
    }
    expect_success(NegotiationStep::PasswordAuth, receive_next());
  }

  NegotiationOutcome request_tunnel() {
    NegotiationOutcome o;
    o.declared_v4 = cfg_.client_v4.value_or(t_.local_address());
    std::string request;
    try {
      request = create_request_message(cfg_, o.declared_v4);
    } catch (const std::invalid_argument& e) {
      fail(ExitCode::InvalidConfigFile, std::string("cannot write the tunnel request: ") + e.what());
    }
    const std::string reply = exchange(request);
    const FrameParse frame = parse_framed_reply(reply);
    if (const auto* error = std::get_if<std::string>(&frame)) fail(ExitCode::SocketIo, "tunnel request: " + *error);
    if (std::holds_alternative<FrameIncomplete>(frame)) fail(ExitCode::SocketIo, "tunnel request: the reply is shorter than its Content-length");
    const FramedReply& framed = std::get<FramedReply>(frame);
    if (framed.status != 200) refuse(NegotiationStep::TunnelRequest, framed.status, reply, framed.status_line);
    auto parsed = xml::parse_offer_xml(framed.xml);
    if (const auto* error = std::get_if<std::string>(&parsed)) fail(ExitCode::BadTunnelParam, "tunnel offer: " + *error);
    o.offer = std::move(std::get<xml::ParsedOffer>(parsed));
    check_offer(o.offer);
    if (ctx_.version != "1.0.1") send_unanswered(kAcceptMessage);  // 1.0.1 has no accept (§1.6)
    o.kind = Kind::Tunnel;
    return o;
  }

  void check_offer(const xml::ParsedOffer& offer) const {
    if (!offer.brokers.empty()) fail(ExitCode::BadTunnelParam, "tunnel offer: a broker list in a 200 reply");
    if (offer.type != "v6v4" && offer.type != "v6udpv4")
      fail(ExitCode::BadTunnelParam, "tunnel offer: tunnel type \"" + offer.type + "\" cannot be set up here");
    if (offer.type == "v6udpv4" && !t_.is_udp())
      fail(ExitCode::BadTunnelParam, "tunnel offer: v6udpv4 on a TCP session (the data must ride the UDP socket)");
    if (cfg_.tunnel_mode == TunnelMode::V6V4 && offer.type != "v6v4")
      fail(ExitCode::BadTunnelParam, "tunnel offer: asked for v6v4, offered " + offer.type);
    if (cfg_.tunnel_mode == TunnelMode::V6UdpV4 && offer.type != "v6udpv4")
      fail(ExitCode::BadTunnelParam, "tunnel offer: asked for v6udpv4, offered " + offer.type);
  }

  ControlTransport& t_;
  const TspcConfig& cfg_;
  const NegotiationContext& ctx_;
};

}  // namespace

std::string printable_message(std::string_view message) {
  std::string out;
  for (char ch : message.substr(0, 2000)) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == '\r') continue;
    if (ch == '\n' || (c >= 0x20 && c < 0x7F)) {
      out += ch;
    } else if (ch == '\0') {
      if (!out.empty() && out.back() == '\n') out.pop_back();  // "LINE\r\n\0" reads "LINE\0"
      out += "\\0";
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02X", c);
      out += hex;
    }
  }
  if (message.size() > 2000) out += "...";
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

NegotiationOutcome negotiate(ControlTransport& transport, const TspcConfig& cfg, const NegotiationContext& context) {
  try {
    return Dialogue(transport, cfg, context).run();
  } catch (const Finished& f) {
    return f.outcome;
  } catch (const TransportError& e) {
    NegotiationOutcome o;
    o.code = ExitCode::SocketIo;
    o.message = e.what();
    return o;
  }
}

}  // namespace tsp::tspc
