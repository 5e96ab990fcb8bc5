// Fuzz target for a whole TSP session, driven the way the servers drive it: every parser a
// client's bytes reach (the RUDP header, TCP framing, the line messages, the SASL exchanges,
// the tunnel XML) and the state machine between them, against a real SQLite store (in
// memory), address pools, the tunnel table and the password lockout.
//
// Input: a first byte choosing the first client (bit 0 set: a TCP one) and whether PLAIN's
// password checks leave the session as with the daemon's checker (bit 1), then chunks separated
// by "\n---\n". Five clients: three over UDP (two of them behind one address, as through a
// NAT) and two TCP connections from one address. To a UDP client a chunk is one datagram (RUDP
// header included); to a TCP client the chunks are the stream as the socket's reads deliver
// it. Other chunks:
//   "@N"     the next chunks come from client N (0-2: UDP, 3-4: TCP);
//   "+N"     the clock moves N seconds on and idle tunnels expire, as the daemon's timer does;
//   "!"      the password check handed out last finishes ("!busy": refused by a full checker);
//   "~kick"  the operator kicks the live tunnel of the lowest id (tspctl kick);
//   "~del"   the operator deletes alice, her tunnel with her (tspctl user del).
//
// Checked besides "no crash, no sanitizer report, no leak": every framed reply counts its own
// bytes (§3.1); a session that says it is established has a tunnel; the tunnels the service
// holds are exactly those in the store; the service reports each committed tunnel's end once
// (TunnelService::watch_gone, which TcpTspServer closes held connections by), and a session
// holding that commit is established exactly until then; and once every client is gone and the
// lifetimes have run out, nothing is left in either, every end was reported, and the pools
// hold only registered users' stable blocks.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "config/broker_config.hpp"
#include "control/auth/make_credentials.hpp"
#include "control/auth_lockout.hpp"
#include "control/dns/reverse_zone.hpp"
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
    "limit tunnels 64\n"
    // Two clients share an address (below): the second one's anonymous request meets the limit.
    "limit anonymous per-address 1\n";

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

// One client of the broker, as a server holds it.
struct Client {
  Peer peer;
  std::unique_ptr<TspSession> session;  // UDP: made by VERSION=; TCP: for the connection's life
  TcpMessageSplitter splitter;          // TCP only
  uint64_t generation = 0;              // UDP: sessions made for this peer so far
  bool tcp() const { return !peer.udp; }
};

class Broker {
 public:
  static constexpr size_t kClients = 5;

  explicit Broker(bool with_checker)
      : store_(store::Store::open_sqlite(":memory:")),
        table_(world().cfg.max_tunnels),
        service_(world().cfg, *store_, table_),
        lockout_(lockout_policy(world().cfg.tsp())),
        env_{world().cfg, *store_, service_, [this] { return now_; }, nullptr, nullptr, nullptr, {}} {
    env_.lockout = &lockout_;
    if (with_checker) env_.password_checker = &checker_flag();
    env_.scram_fake_salt_secret = {1, 2, 3, 4, 5, 6, 7, 8};
    // What TcpTspServer closes held connections by: each gone commit reported once, and
    // only one that a session put live.
    service_.watch_gone([this](const LiveTunnel& t) {
      REQUIRE_OR_ABORT(committed_.count(t.commit_serial) == 1);
      REQUIRE_OR_ABORT(gone_.insert(t.commit_serial).second);
    });
    for (const auto& u : world().users) REQUIRE_OR_ABORT(store_->add_user(u));
    const Peer peers[kClients] = {{true, Ipv4Addr{0xC6336401}, 40001},  // 198.51.100.1
                                  {true, Ipv4Addr{0xC6336401}, 40002},  // the same NAT, another port
                                  {true, Ipv4Addr{0xC6336403}, 40001},  // 198.51.100.3
                                  {false, Ipv4Addr{0xC6336402}, 50001},  // 198.51.100.2
                                  {false, Ipv4Addr{0xC6336402}, 50002}};
    for (size_t i = 0; i < kClients; ++i) {
      clients_[i].peer = peers[i];
      if (clients_[i].tcp()) clients_[i].session = std::make_unique<TspSession>(env_, peers[i]);
    }
  }

  // What a chunk is: a client switch, a clock step, a verdict, or bytes from the current client.
  void chunk(std::string_view c) {
    if (c.starts_with('@')) {
      if (c.size() > 1 && c[1] >= '0' && c[1] < static_cast<char>('0' + kClients)) current_ = static_cast<size_t>(c[1] - '0');
    } else if (c.starts_with('+')) {
      step_clock(c);
    } else if (c.starts_with('!')) {
      verdict(c);
    } else if (c.starts_with('~')) {
      operator_action(c);
    } else if (clients_[current_].tcp()) {
      tcp_bytes(clients_[current_], c);
    } else {
      udp_datagram(clients_[current_], c);
    }
  }
  void select(size_t client) { current_ = client; }

  // Ends every session (the clients go away), lets every lifetime run out and checks that
  // nothing is left behind.
  void finish() {
    check_consistent();
    for (auto& c : clients_) c.session.reset();
    check_consistent();
    now_ += kLongestStep;
    service_.expire_idle(now_);
    REQUIRE_OR_ABORT(service_.live_tunnels() == 0);
    REQUIRE_OR_ABORT(gone_ == committed_);  // every tunnel's end was reported
    REQUIRE_OR_ABORT(store_->load_tunnels().empty());
    for (const auto& c : clients_) REQUIRE_OR_ABORT(service_.anonymous_held_by(c.peer.addr) == 0);
    // What stays in use is registered users' stable blocks, kept for their next login.
    const auto stable = store_->load_allocations();
    for (const auto& usage : service_.pool_usage()) {
      uint64_t kept = 0;
      for (const auto& a : stable) kept += a.pool == usage.name;
      REQUIRE_OR_ABORT(usage.used == kept);
    }
  }

 private:
  // "+N": the clock moves on and idle tunnels expire.
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

  // What tspctl does behind the sessions' backs.
  void operator_action(std::string_view chunk) {
    if (chunk == "~kick") {
      const auto live = service_.tunnels();
      if (!live.empty()) REQUIRE_OR_ABORT(service_.kick(live.front().id, now_));
    } else if (chunk == "~del") {
      service_.remove_user("alice", now_);
      lockout_.forget_user("alice");
    }
    check_consistent();
  }

  // "!": the password check handed out last finishes ("!busy": the checker was full). Its
  // verdict goes to the session that asked, if it is still there; a stale ticket (the client
  // sent VERSION= meanwhile) must be dropped by the session.
  void verdict(std::string_view chunk) {
    if (!check_) return;
    const auto [index, generation, check] = std::move(*check_);
    check_.reset();
    Client& client = clients_[index];
    // The servers post a verdict to the session that asked only (UDP: the slot's serial).
    if (!client.session || generation != client.generation) return;
    const auto verdict = chunk == "!busy"                                      ? PasswordVerdict::Unchecked
                         : auth::verify_password(check.credentials, check.password) ? PasswordVerdict::Right
                                                                                : PasswordVerdict::Wrong;
    if (!handle(index, client.session->on_password_checked(check.ticket, verdict))) return client.session.reset();
    if (client.tcp()) tcp_bytes(client, {});  // the server reads on: messages held back meanwhile come now
  }

  // One datagram, as UdpTspServer takes it: control messages only; a new session only for
  // VERSION=; a session that asks to close is dropped.
  void udp_datagram(Client& client, std::string_view datagram) {
    const auto parsed = parse_rudp(datagram);
    if (!parsed) return;
    REQUIRE_OR_ABORT(classify_datagram(datagram) == DatagramKind::Control);
    REQUIRE_OR_ABORT(parsed->payload.size() + kRudpHeaderSize == datagram.size());
    if (!client.session) {
      if (!parsed->payload.starts_with("VERSION=")) return;
      client.session = std::make_unique<TspSession>(env_, client.peer);
      ++client.generation;
    }
    if (!handle(index_of(client), client.session->on_message(parsed->payload))) client.session.reset();
  }

  // Stream bytes, as TcpTspServer takes them: whole messages to the session until it asks to
  // close or the framing cannot be valid; none while a password check runs.
  void tcp_bytes(Client& client, std::string_view bytes) {
    if (!client.session) return;  // closed: the peer would have to connect again
    client.splitter.append(bytes);
    while (!client.session->awaiting_password_check()) {
      const auto msg = client.splitter.next();
      if (!msg) break;
      if (!handle(index_of(client), client.session->on_message(*msg))) return client.session.reset();
    }
    if (!client.session->awaiting_password_check() && !client.splitter.error().empty()) client.session.reset();
  }

  size_t index_of(const Client& client) const { return static_cast<size_t>(&client - clients_); }

  // Checks what a client's session answered; false when it asks to be dropped.
  bool handle(size_t index, SessionOutput out) {
    const TspSession& session = *clients_[index].session;
    if (out.password_check) {
      // Only with a checker, with nothing to send yet, and with the session waiting for it.
      REQUIRE_OR_ABORT(env_.password_checker != nullptr);
      REQUIRE_OR_ABORT(out.replies.empty() && !out.close);
      REQUIRE_OR_ABORT(session.awaiting_password_check());
      check_ = std::tuple{index, clients_[index].generation, std::move(*out.password_check)};
    }
    check_framing(out);
    if (session.tunnel_established()) REQUIRE_OR_ABORT(service_.live_tunnels() > 0);
    if (session.tunnel() && session.tunnel_established()) committed_.insert(session.tunnel()->commit_serial);
    check_consistent();
    return !out.close;
  }

  void check_consistent() {
    REQUIRE_OR_ABORT(ids(service_.tunnels()) == ids(store_->load_tunnels()));
    REQUIRE_OR_ABORT(service_.tunnels().size() == service_.live_tunnels());
    // What the reverse zone file is written from: exactly the live routers that named name
    // servers, and only host names (anything else could add lines of its own to the file).
    size_t delegating = 0;
    for (const auto& t : service_.tunnels()) delegating += t.prefix && !t.dns_names.empty();
    const auto delegations = service_.delegations();
    REQUIRE_OR_ABORT(delegations.size() == delegating);
    for (const auto& d : delegations) {
      REQUIRE_OR_ABORT(!d->name_servers.empty());
      for (const auto& name : d->name_servers) REQUIRE_OR_ABORT(dns::valid_name_server(name));
    }
    REQUIRE_OR_ABORT(dns::render_delegations(delegations, 3600).skipped_names == 0);
    // The anonymous quota: every live anonymous tunnel counted against the address that asked
    // for it (a proxy request names another box's), plus at most one offer per session; never
    // more than the limit (1) at an address, but for an offer taking over that address's own.
    std::set<uint32_t> addresses;
    for (const auto& c : clients_) addresses.insert(c.peer.addr.value);
    size_t held = 0, live_anonymous = 0, sessions = 0;
    for (uint32_t a : addresses) {
      const uint32_t here = service_.anonymous_held_by(Ipv4Addr{a});
      REQUIRE_OR_ABORT(here <= 2);
      held += here;
    }
    for (const auto& t : service_.tunnels()) live_anonymous += t.anonymous;
    for (const auto& c : clients_) sessions += c.session != nullptr;
    REQUIRE_OR_ABORT(held >= live_anonymous && held <= live_anonymous + sessions);
    // A session still holding its tunnel's commit has it live exactly until its end is reported.
    for (const auto& c : clients_) {
      if (!c.session || !c.session->tunnel()) continue;
      REQUIRE_OR_ABORT(c.session->tunnel_established() != (gone_.count(c.session->tunnel()->commit_serial) == 1));
    }
  }

  int64_t now_ = kStart;
  std::unique_ptr<store::Store> store_;
  TunnelTable table_;
  TunnelService service_;
  AuthLockout lockout_;
  SessionEnv env_;
  Client clients_[kClients];
  size_t current_ = 0;
  // The check handed out last: the client, its session's generation, the check.
  std::optional<std::tuple<size_t, uint64_t, PasswordCheck>> check_;
  std::set<uint64_t> committed_, gone_;  // commit serials put live, and those reported gone
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Broker broker(data[0] & 2);
  broker.select(data[0] & 1 ? 3 : 0);
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  while (true) {
    const auto cut = rest.find(kSeparator);
    broker.chunk(rest.substr(0, cut));
    if (cut == std::string_view::npos) break;
    rest.remove_prefix(cut + kSeparator.size());
  }
  broker.finish();
  return 0;
}
