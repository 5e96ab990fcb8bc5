// Fuzz target for a whole TSP session, driven the way the servers drive it: every parser a
// client's bytes reach (the RUDP header, TCP framing, the line messages, the SASL exchanges,
// the tunnel XML) and the state machine between them, against a real SQLite store (in
// memory), address pools, the tunnel table and the password lockout.
//
// Input: a first byte choosing the transport (bit 0 set: TCP) and whether PLAIN's password
// checks leave the session as with the daemon's checker (bit 1), then chunks separated by
// "\n---\n". Over UDP a chunk is one datagram (RUDP header included); over TCP the chunks are
// the stream as the socket's reads deliver it. A chunk "+N" moves the clock N seconds on and
// lets idle tunnels expire, as the daemon's timer does; a chunk "!" finishes the password check
// handed out last ("!busy": refused by a full checker).
//
// Checked besides "no crash, no sanitizer report, no leak": every framed reply counts its own
// bytes (§3.1); a session that says it is established has a tunnel; the tunnels the service
// holds are exactly those in the store; and once every client is gone and the lifetimes have
// run out, nothing is left in either and the pools hold only registered users' stable blocks.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <tuple>
#include <utility>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/spdlog.h>

#include "config/broker_config.hpp"
#include "control/auth/make_credentials.hpp"
#include "control/auth_lockout.hpp"
#include "control/framing.hpp"
#include "control/password_checker.hpp"
#include "control/rudp.hpp"
#include "control/store/store.hpp"
#include "control/tsp_session.hpp"
#include "control/tunnel_service.hpp"
#include "shared/tunnel_table.hpp"

namespace {

using namespace tsp;

constexpr int64_t kStart = 1'700'000'000;
constexpr std::string_view kSeparator = "\n---\n";
constexpr int64_t kLongestStep = 7 * 24 * 3600;

constexpr const char* kConfig =
    "ipv6 local pool P_Endpoints 2001:db8:f001:1::/120 128\n"
    "ipv6 local pool P_Sites48 2001:db8:f100::/44 48\n"
    "ipv6 local pool P_Sites64 2001:db8:f200::/60 64\n"
    "tsp TSP_Main\n"
    "  ip address 192.0.2.1\n"
    "  transport udp 3653\n"
    "  transport tcp 3653\n"
    "  authentication digest-md5 scram-sha-256 plain anonymous\n"
    "  realm broker.example.net\n"
    "  lockout failures 3\n"
    "  lockout user-failures 4\n"
    "tunnel server TS_Main\n"
    "  ip address 192.0.2.1\n"
    "  ipv6 pool endpoints P_Endpoints\n"
    "  ipv6 pool prefix P_Sites48\n"
    "  ipv6 pool prefix P_Sites64\n"
    "  ipv6 dns-server 2001:db8::53\n"
    "tunnel broker TB_Main\n"
    "  set tsp TSP_Main\n"
    "  set tunnel server TS_Main\n"
    "limit tunnels 64\n";

// What every input shares: the configuration and the users' credentials (PBKDF2 is too slow
// to run per input). alice/secret can log in; carol/secret is disabled.
struct World {
  config::Config cfg = config::parse_config(kConfig, "fuzz.conf");
  std::vector<store::UserRecord> users;
  World() {
    spdlog::set_level(spdlog::level::err);  // a line per message or lockout would be most of the time
    for (const char* name : {"alice", "carol"}) {
      store::UserRecord u;
      u.name = name;
      u.credentials = auth::make_credentials(name, cfg.tsp().realm, "secret");
      u.enabled = std::string_view(name) == "alice";
      u.created_at = kStart;
      users.push_back(u);
    }
  }
};

const World& world() {
  static const World w;
  return w;
}

void fail(const char* what) {
  std::fprintf(stderr, "fuzz_tsp_session: check failed: %s\n", what);
  std::abort();
}
#define REQUIRE_OR_ABORT(condition) ((condition) ? void() : fail(#condition))

// A reply that starts with the Content-length header counts everything after its first line.
void check_framing(const SessionOutput& out) {
  constexpr std::string_view kHeader = "Content-length: ";
  for (const auto& r : out.replies) {
    const std::string_view p = r.payload;
    if (!p.starts_with(kHeader)) continue;
    const auto end = p.find("\r\n");
    REQUIRE_OR_ABORT(end != std::string_view::npos);
    REQUIRE_OR_ABORT(std::to_string(p.size() - end - 2) == p.substr(kHeader.size(), end - kHeader.size()));
  }
}

std::vector<uint32_t> ids(const std::vector<store::TunnelRecord>& tunnels) {
  std::vector<uint32_t> out;
  for (const auto& t : tunnels) out.push_back(t.id);
  return out;
}

// Stands in for the daemon's checker only as the session sees it: a non-null pointer makes
// PLAIN hand its check out. Nothing is ever submitted to it; the target runs the check itself
// when the input says the verdict comes.
PasswordChecker& checker_flag() {
  static PasswordChecker checker(1, 1);
  return checker;
}

class Broker {
 public:
  explicit Broker(bool with_checker)
      : store_(store::Store::open_sqlite(":memory:")),
        table_(world().cfg.max_tunnels),
        service_(world().cfg, *store_, table_),
        lockout_(lockout_policy(world().cfg.tsp())),
        env_{world().cfg, *store_, service_, [this] { return now_; }, nullptr, nullptr, nullptr, {}} {
    env_.lockout = &lockout_;
    if (with_checker) env_.password_checker = &checker_flag();
    env_.scram_fake_salt_secret = {1, 2, 3, 4, 5, 6, 7, 8};
    for (const auto& u : world().users) REQUIRE_OR_ABORT(store_->add_user(u));
  }

  // "+N": the clock moves on and idle tunnels expire.
  static bool is_clock_step(std::string_view chunk) { return chunk.starts_with('+'); }
  void step_clock(std::string_view chunk) {
    int64_t seconds = 0;
    for (char c : chunk.substr(1)) {
      if (c < '0' || c > '9') break;
      seconds = seconds * 10 + (c - '0');
      if (seconds > kLongestStep) break;
    }
    now_ += seconds > kLongestStep ? kLongestStep : seconds;
    service_.expire_idle(now_);
  }

  // "!": the password check handed out last finishes ("!busy": the checker was full). Its
  // verdict goes to the session that asked, if it is still there; a stale ticket (the client
  // sent VERSION= meanwhile) must be dropped by the session.
  static bool is_verdict(std::string_view chunk) { return chunk.starts_with('!'); }
  void verdict(std::string_view chunk) {
    if (!check_) return;
    const auto [tcp, generation, check] = std::move(*check_);
    check_.reset();
    // The servers post a verdict to the session that asked only (UDP: the slot's serial).
    if (!tcp && generation != udp_generation_) return;
    const auto verdict = chunk == "!busy"                                      ? PasswordVerdict::Unchecked
                         : auth::verify_password(check.credentials, check.password) ? PasswordVerdict::Right
                                                                                : PasswordVerdict::Wrong;
    auto& session = tcp ? tcp_session_ : udp_session_;
    if (!session) return;
    if (!handle(*session, session->on_password_checked(check.ticket, verdict))) return session.reset();
    if (tcp) tcp_bytes({});  // the server reads on: messages held back meanwhile come now
  }

  // One datagram, as UdpTspServer takes it: control messages only; a new session only for
  // VERSION=; a session that asks to close is dropped.
  void udp_datagram(std::string_view datagram) {
    const auto parsed = parse_rudp(datagram);
    if (!parsed) return;
    REQUIRE_OR_ABORT(classify_datagram(datagram) == DatagramKind::Control);
    REQUIRE_OR_ABORT(parsed->payload.size() + kRudpHeaderSize == datagram.size());
    if (!udp_session_) {
      if (!parsed->payload.starts_with("VERSION=")) return;
      udp_session_ = std::make_unique<TspSession>(env_, Peer{true, Ipv4Addr{0xC6336401}, 40001});
      ++udp_generation_;
    }
    if (!handle(*udp_session_, udp_session_->on_message(parsed->payload))) udp_session_.reset();
  }

  // Stream bytes, as TcpTspServer takes them: whole messages to the session until it asks to
  // close or the framing cannot be valid; none while a password check runs.
  void tcp_bytes(std::string_view bytes) {
    if (!tcp_session_) return;  // closed: the peer would have to connect again
    splitter_.append(bytes);
    while (!tcp_session_->awaiting_password_check()) {
      const auto msg = splitter_.next();
      if (!msg) break;
      if (!handle(*tcp_session_, tcp_session_->on_message(*msg))) return tcp_session_.reset();
    }
    if (!tcp_session_->awaiting_password_check() && !splitter_.error().empty()) tcp_session_.reset();
  }

  // Ends every session (the clients go away), lets every lifetime run out and checks that
  // nothing is left behind.
  void finish() {
    check_consistent();
    udp_session_.reset();
    tcp_session_.reset();
    check_consistent();
    now_ += kLongestStep;
    service_.expire_idle(now_);
    REQUIRE_OR_ABORT(service_.live_tunnels() == 0);
    REQUIRE_OR_ABORT(store_->load_tunnels().empty());
    // What stays in use is registered users' stable blocks, kept for their next login.
    const auto stable = store_->load_allocations();
    for (const auto& usage : service_.pool_usage()) {
      uint64_t kept = 0;
      for (const auto& a : stable) kept += a.pool == usage.name;
      REQUIRE_OR_ABORT(usage.used == kept);
    }
  }

 private:
  // Checks what the session answered; false when it asks to be dropped.
  bool handle(TspSession& session, SessionOutput out) {
    if (out.password_check) {
      // Only with a checker, with nothing to send yet, and with the session waiting for it.
      REQUIRE_OR_ABORT(env_.password_checker != nullptr);
      REQUIRE_OR_ABORT(out.replies.empty() && !out.close);
      REQUIRE_OR_ABORT(session.awaiting_password_check());
      check_ = std::tuple{&session == tcp_session_.get(), udp_generation_, std::move(*out.password_check)};
    }
    check_framing(out);
    if (session.tunnel_established()) REQUIRE_OR_ABORT(service_.live_tunnels() > 0);
    check_consistent();
    return !out.close;
  }

  void check_consistent() {
    REQUIRE_OR_ABORT(ids(service_.tunnels()) == ids(store_->load_tunnels()));
    REQUIRE_OR_ABORT(service_.tunnels().size() == service_.live_tunnels());
  }

  int64_t now_ = kStart;
  std::unique_ptr<store::Store> store_;
  TunnelTable table_;
  TunnelService service_;
  AuthLockout lockout_;
  SessionEnv env_;
  std::unique_ptr<TspSession> udp_session_;
  std::unique_ptr<TspSession> tcp_session_ =
      std::make_unique<TspSession>(env_, Peer{false, Ipv4Addr{0xC6336402}, 50001});
  TcpMessageSplitter splitter_;
  uint64_t udp_generation_ = 0;  // sessions made by the UDP side so far
  // The check handed out last: over TCP or not, the UDP session it came from, the check.
  std::optional<std::tuple<bool, uint64_t, PasswordCheck>> check_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool tcp = data[0] & 1;
  const bool with_checker = data[0] & 2;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  Broker broker(with_checker);
  while (true) {
    const auto cut = rest.find(kSeparator);
    const auto chunk = rest.substr(0, cut);
    if (Broker::is_clock_step(chunk)) {
      broker.step_clock(chunk);
    } else if (Broker::is_verdict(chunk)) {
      broker.verdict(chunk);
    } else if (tcp) {
      broker.tcp_bytes(chunk);
    } else {
      broker.udp_datagram(chunk);
    }
    if (cut == std::string_view::npos) break;
    rest.remove_prefix(cut + kSeparator.size());
  }
  broker.finish();
  return 0;
}
