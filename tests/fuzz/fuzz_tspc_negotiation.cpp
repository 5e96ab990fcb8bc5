// Fuzz target for tspc's whole dialogue with a broker (tools/tspc/negotiation.hpp): whatever a
// broker answers, at any step (CAPABILITY, the SASL exchanges, rspauth and server-final, the
// framed offer or redirection), tspc ends with an outcome and never throws, crashes or leaks.
// A broker that is not ours (or an attacker on the path) is the one to fear here.
//
// Input: a first byte choosing the client's settings (bit 0: UDP; bits 1-3: the auth method;
// bit 4: a router; bits 5-6: the tunnel mode; bit 7: TSP 1.0.1), then the broker's answers
// separated by "\n---\n", taken one per exchange or read. When they run out, the broker is
// silent (TransportError NoAnswer).
//
// Checked besides that: the password tspc sends never reaches the log, whatever the log level
// shows; a tunnel outcome is a type this client can set up on this transport, as asked; a
// redirection names brokers; a failure says why.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "tools/tspc/negotiation.hpp"

namespace {

using namespace tsp;
using namespace tsp::tspc;

constexpr std::string_view kSeparator = "\n---\n";
// Neither end is a character the log's escapes (\xFF, \0) can put next to the broker's
// text, and no backslash: an occurrence in the log is tspc's own or the broker's verbatim.
constexpr std::string_view kPassword = "quiet-pa55word-z";

void fail(const char* what) {
  std::fprintf(stderr, "fuzz_tspc_negotiation: check failed: %s\n", what);
  std::abort();
}
#define REQUIRE_OR_ABORT(condition) ((condition) ? void() : fail(#condition))

// A broker that answers from the input, in order, whatever tspc sends.
class ReplayedBroker final : public ControlTransport {
 public:
  ReplayedBroker(bool udp, std::vector<std::string_view> answers) : udp_(udp), answers_(std::move(answers)) {}
  std::string exchange(std::string_view) override { return next(); }
  void send_unanswered(std::string_view) override {}
  std::string receive_next() override { return next(); }
  bool is_udp() const override { return udp_; }
  Ipv4Addr local_address() const override { return Ipv4Addr{0xC0A8010A}; }  // 192.168.1.10
  tunnel::UniqueFd release_socket() override { return {}; }

 private:
  std::string next() {
    if (next_ >= answers_.size()) throw TransportError(TransportError::Kind::NoAnswer, "the broker is silent");
    return std::string(answers_[next_++]);
  }
  bool udp_;
  std::vector<std::string_view> answers_;
  size_t next_ = 0;
};

TspcConfig settings(uint8_t bits) {
  constexpr AuthMethod kMethods[] = {AuthMethod::Any, AuthMethod::DigestMd5, AuthMethod::Plain, AuthMethod::Anonymous,
                                     AuthMethod::ScramSha256};
  constexpr TunnelMode kModes[] = {TunnelMode::V6AnyV4, TunnelMode::V6V4, TunnelMode::V6UdpV4, TunnelMode::V6AnyV4};
  TspcConfig cfg;
  cfg.server = ServerAddress{"broker.example.net", 3653, "broker.example.net", false};
  cfg.template_name = "checktunnel";
  cfg.auth_method = kMethods[((bits >> 1) & 7) % 5];
  if (cfg.auth_method != AuthMethod::Anonymous) {
    cfg.userid = "alice";
    cfg.passwd = std::string(kPassword);
  }
  cfg.host_type = (bits & 0x10) ? HostType::Router : HostType::Host;
  cfg.tunnel_mode = kModes[(bits >> 5) & 3];
  return cfg;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t bits = data[0];
  const bool udp = bits & 1;
  const TspcConfig cfg = settings(bits);
  std::vector<std::string_view> answers;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  for (;;) {
    const auto cut = rest.find(kSeparator);
    answers.push_back(rest.substr(0, cut));
    if (cut == std::string_view::npos) break;
    rest.remove_prefix(cut + kSeparator.size());
  }
  ReplayedBroker broker(udp, std::move(answers));
  bool password_logged = false;
  const NegotiationContext context{(bits & 0x80) ? "1.0.1" : "2.0.2", cfg.server.text, "1795417218",
                                   [&](int, std::string_view text) {
                                     password_logged |= text.find(kPassword) != std::string_view::npos;
                                   }};
  const NegotiationOutcome outcome = negotiate(broker, cfg, context);

  // What tspc sends must not reach the log; a broker that sends the password text itself may
  // see it logged back with its own message (the log drops CRs).
  std::string broker_text(reinterpret_cast<const char*>(data), size);
  std::erase(broker_text, '\r');
  const bool broker_said_it = broker_text.find(kPassword) != std::string::npos;
  REQUIRE_OR_ABORT(!password_logged || broker_said_it);
  switch (outcome.kind) {
    case NegotiationOutcome::Kind::Tunnel:
      REQUIRE_OR_ABORT(outcome.offer.type == "v6v4" || outcome.offer.type == "v6udpv4");
      REQUIRE_OR_ABORT(udp || outcome.offer.type == "v6v4");
      REQUIRE_OR_ABORT(cfg.tunnel_mode != TunnelMode::V6V4 || outcome.offer.type == "v6v4");
      REQUIRE_OR_ABORT(cfg.tunnel_mode != TunnelMode::V6UdpV4 || outcome.offer.type == "v6udpv4");
      break;
    case NegotiationOutcome::Kind::Redirect:
      REQUIRE_OR_ABORT(!outcome.brokers.empty());
      break;
    case NegotiationOutcome::Kind::Failed:
      REQUIRE_OR_ABORT(!outcome.message.empty());
      break;
  }
  return 0;
}
