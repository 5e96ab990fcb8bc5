#include "perf/tsp_load/client_dialogue.hpp"

#include <charconv>
#include <stdexcept>
#include <utility>

#include "control/auth/base64.hpp"
#include "control/auth/digest_md5_client.hpp"
#include "control/xml/tunnel_xml.hpp"

namespace tsp::load {

namespace {

constexpr std::string_view kVersion = "VERSION=2.0.2\r\n";
// gogoc sends AUTHENTICATE lines with their C string terminator (§2.1).
constexpr std::string_view kAuthAnonymous{"AUTHENTICATE ANONYMOUS\r\n\0", 25};
constexpr std::string_view kAuthDigest{"AUTHENTICATE DIGEST-MD5\r\n\0", 26};
constexpr std::string_view kAuthPlainUdp{"AUTHENTICATE PLAIN\r\n\0", 21};
constexpr std::string_view kAuthPlainTcp = "AUTHENTICATE PLAIN\r\n";
constexpr std::string_view kAccept = "Content-length: 35\r\n<tunnel action=\"accept\"></tunnel>\r\n";
constexpr std::string_view kEchoRequest = "ECHO REQUEST\r\n";
constexpr std::string_view kContentLength = "Content-length:";
constexpr size_t kMaxReplyLine = 4096;
constexpr size_t kMaxReplyBody = 16 * 1024;
constexpr int kNoStatusIsRight = -2;  // expect_status() with this always fails the session

std::string_view first_line(std::string_view msg) {
  const auto end = msg.find('\n');
  auto line = end == std::string_view::npos ? msg : msg.substr(0, end);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// The body of "Content-length: N\r\n<body>", or nullopt when the header is not there.
std::optional<std::string_view> framed_body(std::string_view msg) {
  if (msg.substr(0, kContentLength.size()) != kContentLength) return std::nullopt;
  const auto end = msg.find('\n');
  if (end == std::string_view::npos) return std::nullopt;
  return msg.substr(end + 1);
}

std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 80)) out += (c >= 0x20 && c < 0x7f) ? c : '.';
  return out;
}

}  // namespace

int leading_status(std::string_view line) {
  int value = 0;
  const auto [ptr, ec] = std::from_chars(line.data(), line.data() + line.size(), value);
  if (ec != std::errc() || ptr == line.data()) return -1;
  return value;
}

ClientDialogue::ClientDialogue(ClientSpec spec) : spec_(std::move(spec)) {
  if (spec_.host_type == HostType::Router && spec_.auth == AuthKind::Anonymous)
    throw std::invalid_argument("an anonymous client cannot ask for a router prefix");
}

const std::string& ClientDialogue::start() {
  send(Step::Version, std::string(kVersion));
  return next_;
}

void ClientDialogue::send(Step step, std::string msg) {
  step_ = step;
  next_ = std::move(msg);
}

void ClientDialogue::fail(FailureKind kind, std::string text) {
  if (failure_ != FailureKind::None || done_) return;
  failure_ = kind;
  failure_text_ = std::move(text);
  step_ = Step::Finished;
  next_.clear();
}

void ClientDialogue::expect_status(std::string_view line, int wanted, Step next_step, std::string next_msg) {
  const int code = leading_status(line);
  if (code != wanted) {
    status_ = code;
    fail(code < 0 ? FailureKind::Protocol : FailureKind::Status, "'" + printable(line) + "'");
    return;
  }
  send(next_step, std::move(next_msg));
}

// gogoc's SASL PLAIN message: empty authzid, NUL, user, NUL, password, CRLF (§2.3).
std::string ClientDialogue::plain_blob() const {
  return std::string(1, '\0') + spec_.user + '\0' + spec_.password + "\r\n";
}

std::string ClientDialogue::create_message() const {
  xml::RequestSpec req;
  req.type = spec_.tunnel_type;
  req.client_ipv4 = spec_.declared_ipv4;
  req.keepalive_interval = 30;
  req.router = spec_.host_type == HostType::Router;
  req.prefix_length = spec_.prefix_length;
  const std::string body = xml::write_request_xml(req);
  return "Content-length: " + std::to_string(body.size()) + "\r\n" + body;
}

void ClientDialogue::on_reply(std::string_view msg) {
  if (done_ || failed()) return;
  const auto line = first_line(msg);
  switch (step_) {
    case Step::Version:
      if (line.substr(0, 11) != "CAPABILITY ") return expect_status(line, kNoStatusIsRight, Step::Finished, {});
      switch (spec_.auth) {
        case AuthKind::Anonymous:
          return send(Step::Authenticate, std::string(kAuthAnonymous));
        case AuthKind::DigestMd5:
          return send(Step::Authenticate, std::string(kAuthDigest));
        case AuthKind::Plain:
          // Over TCP the broker acknowledges nothing (§2.3): the credentials follow at once.
          if (spec_.transport == Transport::Tcp) return send(Step::PlainCredentials, std::string(kAuthPlainTcp) + plain_blob());
          return send(Step::Authenticate, std::string(kAuthPlainUdp));
      }
      return;
    case Step::Authenticate:
      if (spec_.auth == AuthKind::Anonymous) return expect_status(line, 200, Step::Create, create_message());
      if (spec_.auth == AuthKind::Plain) {
        if (!msg.empty()) return expect_status(line, kNoStatusIsRight, Step::Finished, {});
        return send(Step::PlainCredentials, plain_blob());  // after the header-only acknowledgement
      }
      return on_challenge(line);
    case Step::PlainCredentials:
      return expect_status(line, 200, Step::Create, create_message());
    case Step::DigestResponse:
      return on_rspauth(line);
    case Step::DigestFinal:
      return expect_status(line, 200, Step::Create, create_message());
    case Step::Create:
      return on_offer(msg);
    case Step::Accept:
      // UDP: the header-only acknowledgement; anything else is a framed error.
      if (msg.empty()) {
        done_ = true;
        step_ = Step::Finished;
        next_.clear();
        return;
      }
      return expect_status(first_line(framed_body(msg).value_or(msg)), kNoStatusIsRight, Step::Finished, {});
    case Step::Echo:
      if (leading_status(line) == 200) {
        done_ = true;
        step_ = Step::Finished;
        next_.clear();
        return;
      }
      return expect_status(first_line(framed_body(msg).value_or(msg)), 200, Step::Finished, {});
    case Step::Finished:
      return;
  }
}

void ClientDialogue::on_challenge(std::string_view line) {
  // The challenge is base64 without a status code; a digit first is a refusal (§2.4).
  if (leading_status(line) >= 0) return expect_status(line, kNoStatusIsRight, Step::Finished, {});
  const auto challenge = auth::base64_decode(line);
  if (!challenge) return fail(FailureKind::Protocol, "challenge is not base64");
  auto response = auth::digest_md5_client_response(*challenge, spec_.user, spec_.password, spec_.digest_uri_host,
                                                   spec_.cnonce);
  if (auto* err = std::get_if<auth::DigestClientError>(&response))
    return fail(FailureKind::Protocol, "challenge: " + err->reason);
  challenge_ = *challenge;
  send(Step::DigestResponse, auth::base64_encode(std::get<std::string>(response)) + "\r\n");
}

void ClientDialogue::on_rspauth(std::string_view line) {
  if (leading_status(line) >= 0) return expect_status(line, kNoStatusIsRight, Step::Finished, {});
  const auto rspauth = auth::base64_decode(line);
  if (!rspauth || !auth::digest_md5_client_check_rspauth(*rspauth, challenge_, spec_.user, spec_.password,
                                                          spec_.digest_uri_host, spec_.cnonce))
    return fail(FailureKind::Protocol, "wrong rspauth");
  // UDP: a header-only datagram reads the status; TCP: the broker pushes it (§2.4 step 6).
  send(Step::DigestFinal, std::string());
}

void ClientDialogue::on_offer(std::string_view msg) {
  const auto body = framed_body(msg);
  if (!body) return expect_status(first_line(msg), 200, Step::Finished, {});
  const auto status = first_line(*body);
  if (leading_status(status) != 200) return expect_status(status, 200, Step::Finished, {});
  const auto xml_start = body->find('<');
  if (xml_start == std::string_view::npos) return fail(FailureKind::Protocol, "offer without XML");
  auto parsed = xml::parse_offer_xml(body->substr(xml_start));
  if (auto* err = std::get_if<std::string>(&parsed)) return fail(FailureKind::Protocol, "offer: " + *err);
  const bool tcp_echo = spec_.transport == Transport::Tcp && spec_.tcp_finish == TcpFinish::EchoConfirm;
  if (tcp_echo) return send(Step::Echo, std::string(kAccept) + std::string(kEchoRequest));
  send(Step::Accept, std::string(kAccept));
}

void ClientDialogue::on_sent() {
  if (step_ == Step::Accept && spec_.transport == Transport::Tcp) {
    done_ = true;  // TcpFinish::AcceptSent: the broker stays silent after an accept over TCP
    step_ = Step::Finished;
    next_.clear();
  }
}

bool ReplySplitter::next(std::string& out) {
  if (!error_.empty()) return false;
  const auto eol = buffer_.find('\n');
  if (eol == std::string::npos) {
    if (buffer_.size() > kMaxReplyLine) error_ = "reply line too long";
    return false;
  }
  size_t total = eol + 1;
  if (std::string_view(buffer_).substr(0, kContentLength.size()) == kContentLength) {
    std::string_view number = std::string_view(buffer_).substr(kContentLength.size(), eol - kContentLength.size());
    while (!number.empty() && number.front() == ' ') number.remove_prefix(1);
    while (!number.empty() && (number.back() == '\r' || number.back() == ' ')) number.remove_suffix(1);
    size_t n = 0;
    const auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), n);
    if (ec != std::errc() || ptr != number.data() + number.size() || n > kMaxReplyBody) {
      error_ = "bad Content-length header";
      return false;
    }
    total += n;
    if (buffer_.size() < total) return false;
  }
  out.assign(buffer_, 0, total);
  buffer_.erase(0, total);
  return true;
}

}  // namespace tsp::load
