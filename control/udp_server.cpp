#include "control/udp_server.hpp"

#include <spdlog/spdlog.h>
#include <sys/uio.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>

#include "control/framing.hpp"
#include "control/log_text.hpp"
#include "control/password_checker.hpp"

namespace tsp {

namespace asio = boost::asio;
using udp = asio::ip::udp;

namespace {
constexpr int kReceiveBufferBytes = 8 * 1024 * 1024;
// Datagrams per recvmmsg, and recvmmsg calls per turn of the I/O loop: one datagram per turn
// would give all UDP clients together the share of a single TCP connection, an unbounded
// drain would starve TCP and the timers.
constexpr unsigned kBatchDatagrams = 64;
constexpr int kBatchesPerTurn = 4;
// Replies go out by sendmmsg in groups this large rather than all at the end of a batch: the
// clients (on loopback, the load generator on the other core) start on the first answers
// while the broker works on the rest.
constexpr size_t kRepliesPerSend = 8;
// The largest UDP payload over IPv4: a datagram is never cut short.
constexpr size_t kMaxDatagram = 65507;

uint64_t session_key(uint32_t addr, uint16_t port) { return (uint64_t{addr} << 16) | port; }
}  // namespace

struct UdpTspServer::Batch {
  // Receiving: one buffer, address and header per datagram of a recvmmsg.
  // Left uninitialised: the kernel writes only what arrives, and pages never written stay free.
  std::unique_ptr<char[]> rx_data{new char[size_t{kBatchDatagrams} * kMaxDatagram]};
  std::array<sockaddr_storage, kBatchDatagrams> rx_from{};
  std::array<iovec, kBatchDatagrams> rx_iov{};
  std::array<mmsghdr, kBatchDatagrams> rx_msgs{};

  // Sending: replies queued during the batch. Payloads live in one arena, referred to by
  // offset until the send (the arena may grow meanwhile).
  struct Reply {
    RudpHeader header;
    size_t offset, size;
    sockaddr_in to;
  };
  std::vector<Reply> replies;
  std::string arena;
  std::vector<iovec> tx_iov;
  std::vector<mmsghdr> tx_msgs;

  Batch() {
    for (unsigned i = 0; i < kBatchDatagrams; ++i) {
      rx_iov[i] = {rx_data.get() + size_t{i} * kMaxDatagram, kMaxDatagram};
      rx_msgs[i] = {};
      rx_msgs[i].msg_hdr.msg_iov = &rx_iov[i];
      rx_msgs[i].msg_hdr.msg_iovlen = 1;
    }
    replies.reserve(kBatchDatagrams);
    arena.reserve(64 * 1024);
  }
  void prepare_receive() {
    for (unsigned i = 0; i < kBatchDatagrams; ++i) {
      rx_msgs[i].msg_hdr.msg_name = &rx_from[i];
      rx_msgs[i].msg_hdr.msg_namelen = sizeof rx_from[i];
      rx_msgs[i].msg_hdr.msg_flags = 0;
    }
  }
};

UdpTspServer::UdpTspServer(asio::io_context& io, SessionEnv& env, SessionLimiter& limiter,
                           const udp::endpoint& bind_to)
    : io_(io),
      socket_(io),
      sweep_timer_(io),
      env_(env),
      limiter_(limiter),
      batch_(std::make_unique<Batch>()),
      transport_(env.counters ? env.counters->transport() : own_transport_) {
  socket_.open(bind_to.protocol());
  socket_.set_option(udp::socket::reuse_address(true));
  // Thousands of clients answering at once overflow the default ~200 KiB queue, and every
  // dropped datagram costs its client a retransmission time-out (seconds). The kernel caps
  // the request at net.core.rmem_max; a smaller buffer is not worth failing over.
  boost::system::error_code ignored;
  socket_.set_option(asio::socket_base::receive_buffer_size(kReceiveBufferBytes), ignored);
  // System calls must never block the I/O thread: a full queue drops a reply (the client
  // retransmits and gets the cached one) rather than stalling every session.
  socket_.non_blocking(true);
  socket_.bind(bind_to);
  // Last: nothing after it may throw (the destructor, which unwatches, would not run).
  // Reported under the service's mutex, from any thread: handed to the I/O thread.
  user_watch_ = env_.tunnels.watch_users_removed([this, alive = std::weak_ptr<bool>(alive_)](const std::string& user) {
    asio::post(io_, [this, alive, user] {
      if (alive.lock() && !stopped_) end_sessions_of(user);
    });
  });
}

UdpTspServer::~UdpTspServer() { env_.tunnels.unwatch_users_removed(user_watch_); }

void UdpTspServer::end_sessions_of(const std::string& user) {
  size_t ended = 0;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    const auto next = std::next(it);
    const Identity& who = it->second.session->identity();
    if (!who.anonymous() && who.user == user) {
      erase(it);  // silence from now on, as for any source without a session
      ++ended;
    }
    it = next;
  }
  if (ended > 0) spdlog::info("udp: {} session(s) of deleted user '{}' ended", ended, printable(user));
}

void UdpTspServer::start() {
  // A drain first: what arrived before start() raised no readiness event that a wait
  // registered now would see.
  asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_)] {
    if (alive.lock() && !stopped_) drain();
  });
  schedule_sweep();
}

void UdpTspServer::stop() {
  stopped_ = true;
  boost::system::error_code ec;
  socket_.close(ec);
  sweep_timer_.cancel();
  while (!sessions_.empty()) erase(sessions_.begin());
}

void UdpTspServer::wait_readable() {
  socket_.async_wait(udp::socket::wait_read, [this](boost::system::error_code ec) {
    if (stopped_ || ec == asio::error::operation_aborted) return;
    drain();
  });
}

// Reads until the queue is empty (then waits for the next datagram: the socket is
// edge-triggered in the reactor, so it must be empty) or for kBatchesPerTurn batches (then
// lets the other handlers run first).
void UdpTspServer::drain() {
  auto& b = *batch_;
  const int fd = socket_.native_handle();
  for (int turn = 0; turn < kBatchesPerTurn; ++turn) {
    b.prepare_receive();
    const int n = ::recvmmsg(fd, b.rx_msgs.data(), kBatchDatagrams, MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) spdlog::debug("udp recvmmsg: {}", std::strerror(errno));
      wait_readable();
      return;
    }
    batch_now_ = std::chrono::steady_clock::now();
    for (int i = 0; i < n && !stopped_; ++i) {
      on_datagram(std::string_view(static_cast<const char*>(b.rx_iov[i].iov_base), b.rx_msgs[i].msg_len),
                  b.rx_from[i]);
      if (b.replies.size() >= kRepliesPerSend) send_queued();
    }
    send_queued();
    if (stopped_) return;
    if (static_cast<unsigned>(n) < kBatchDatagrams) {
      wait_readable();
      return;
    }
  }
  asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_)] {
    if (alive.lock() && !stopped_) drain();
  });
}

void UdpTspServer::send(const RudpHeader& h, std::string_view payload, const sockaddr_in& to) {
  auto& b = *batch_;
  b.replies.push_back({h, b.arena.size(), payload.size(), to});
  b.arena.append(payload);
  transport_.udp_sent();
}

void UdpTspServer::send_queued() {
  auto& b = *batch_;
  if (b.replies.empty()) return;
  const size_t count = b.replies.size();
  b.tx_iov.resize(2 * count);
  b.tx_msgs.assign(count, mmsghdr{});
  for (size_t i = 0; i < count; ++i) {
    auto& r = b.replies[i];
    b.tx_iov[2 * i] = {r.header.raw.data(), r.header.raw.size()};
    b.tx_iov[2 * i + 1] = {b.arena.data() + r.offset, r.size};
    auto& h = b.tx_msgs[i].msg_hdr;
    h.msg_name = &r.to;
    h.msg_namelen = sizeof r.to;
    h.msg_iov = &b.tx_iov[2 * i];
    h.msg_iovlen = r.size > 0 ? 2 : 1;  // a header-only acknowledgement has no payload
  }
  const int fd = socket_.native_handle();
  size_t done = 0;
  while (done < count) {
    const int sent = ::sendmmsg(fd, b.tx_msgs.data() + done, static_cast<unsigned>(count - done), MSG_DONTWAIT);
    if (sent < 0) {
      if (errno == EINTR) continue;
      // This reply is lost (a full queue, an unreachable client): the client retransmits
      // and gets it from the cache. The others still go.
      spdlog::debug("udp send: {}", std::strerror(errno));
      ++done;
      continue;
    }
    done += static_cast<size_t>(sent);
  }
  b.replies.clear();
  b.arena.clear();
}

void UdpTspServer::erase(Sessions::iterator it) {
  if (it->second.holds_limit) limiter_.release(it->second.session->peer().addr);
  sessions_.erase(it);
}

void UdpTspServer::on_datagram(std::string_view datagram, const sockaddr_storage& from_storage) {
  transport_.udp_received();
  if (from_storage.ss_family != AF_INET) return;
  sockaddr_in from;
  std::memcpy(&from, &from_storage, sizeof from);
  const Ipv4Addr addr{ntohl(from.sin_addr.s_addr)};
  const uint16_t port = ntohs(from.sin_port);
  const auto kind = classify_datagram(datagram);
  if (kind == DatagramKind::Ipv6Data) {
    // Tunnel data on the TSP socket only arrives here when no dataplane runs: it still proves
    // the client alive (its keepalives), but there is nowhere to forward it.
    env_.tunnels.note_udp_activity(addr, port, env_.now());
    transport_.udp_dropped(metrics::UdpDrop::tunnel_data);
    return;
  }
  const auto msg = parse_rudp(datagram);
  if (!msg) {
    transport_.udp_dropped(metrics::UdpDrop::malformed);
    return;
  }
  const auto payload = msg->payload;
  auto it = sessions_.find(session_key(addr.value, port));
  const bool is_version = payload.substr(0, 8) == "VERSION=";

  if (it != sessions_.end() && it->second.seen_request && it->second.last_sequence == msg->header.sequence_word()) {
    // A retransmission: same answer, same state (§1.3).
    it->second.last_active = batch_now_;
    if (it->second.answered) {
      send(msg->header, it->second.last_reply, from);
      transport_.udp_retransmission_answered();
    }
    return;
  }
  if (it == sessions_.end()) {
    if (!is_version) {
      if (strip_line_end(payload) == "ECHO REQUEST") {
        send(msg->header, status_line(Status::Success), from);
        return;
      }
      transport_.udp_dropped(metrics::UdpDrop::unknown_session);  // silence: no reflection toward forged sources
      return;
    }
    const auto admission = accepting_ ? limiter_.try_acquire(addr) : SessionLimiter::Admission::full;
    if (admission != SessionLimiter::Admission::admitted) {
      if (env_.counters) env_.counters->refused(Status::ServerTooBusy);
      if (accepting_) transport_.session_limited(limit_met(admission));  // not while shutting down
      send(msg->header, status_line(Status::ServerTooBusy), from);
      return;
    }
    Slot slot;
    slot.session = std::make_unique<TspSession>(env_, Peer{true, addr, port});
    slot.holds_limit = true;
    slot.serial = ++next_serial_;
    it = sessions_.emplace(session_key(addr.value, port), std::move(slot)).first;
  }
  auto& slot = it->second;
  slot.last_active = batch_now_;
  slot.seen_request = true;
  slot.last_sequence = msg->header.sequence_word();
  const bool was_established = slot.session->tunnel_established();
  answer(it, msg->header, from, slot.session->on_message(payload), was_established);
}

void UdpTspServer::answer(Sessions::iterator it, const RudpHeader& h, const sockaddr_in& to, SessionOutput out,
                          bool was_established) {
  auto& slot = it->second;
  // A session whose tunnel was up and that starts over (VERSION=, or its own delete) is
  // unfinished again: it needs a slot as a new one does, or it ends with 530.
  if (!slot.holds_limit && !slot.session->tunnel_established()) {
    const auto admission = limiter_.try_acquire(slot.session->peer().addr);
    slot.holds_limit = admission == SessionLimiter::Admission::admitted;
    if (!slot.holds_limit) {
      if (env_.counters) env_.counters->refused(Status::ServerTooBusy);
      transport_.session_limited(limit_met(admission));
      send(h, status_line(Status::ServerTooBusy), to);
      return erase(it);
    }
  }
  if (out.password_check) {
    // No answer yet: a retransmission meanwhile gets none either, the verdict will.
    slot.answered = false;
    slot.last_reply.clear();
    slot.pending_header = h;
    slot.pending_from = to;
    return check_password(it, std::move(*out.password_check));
  }
  slot.answered = !out.replies.empty();
  if (slot.answered) slot.last_reply = std::move(out.replies.front().payload);
  else slot.last_reply.clear();
  if (slot.answered) send(h, slot.last_reply, to);
  // A session whose tunnel is up no longer counts as unfinished.
  if (!was_established && slot.session->tunnel_established() && slot.holds_limit) {
    limiter_.release(slot.session->peer().addr);
    slot.holds_limit = false;
  }
  if (out.close) erase(it);
}

void UdpTspServer::check_password(Sessions::iterator it, PasswordCheck check) {
  const uint64_t key = it->first, serial = it->second.serial, ticket = check.ticket;
  env_.password_checker->submit(std::move(check), [this, alive = std::weak_ptr<bool>(alive_), key, serial,
                                                   ticket](PasswordVerdict verdict) {
    // On a checker thread (or here, when it was full): the I/O thread answers, as for a datagram.
    asio::post(io_, [this, alive, key, serial, ticket, verdict] {
      if (alive.lock() && !stopped_) on_password_checked(key, serial, ticket, verdict);
    });
  });
}

void UdpTspServer::on_password_checked(uint64_t key, uint64_t serial, uint64_t ticket, PasswordVerdict verdict) {
  const auto it = sessions_.find(key);
  // The session ended meanwhile, or started over (VERSION=): its answer to that stands.
  if (it == sessions_.end() || it->second.serial != serial || !it->second.session->awaiting_password_check()) return;
  auto& slot = it->second;
  const bool was_established = slot.session->tunnel_established();
  const RudpHeader h = slot.pending_header;
  const sockaddr_in to = slot.pending_from;
  answer(it, h, to, slot.session->on_password_checked(ticket, verdict), was_established);
  send_queued();  // outside a batch: nothing else will send it
}

void UdpTspServer::schedule_sweep() {
  sweep_timer_.expires_after(std::chrono::seconds(1));
  sweep_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopped_) return;
    const auto idle_limit = std::chrono::seconds(env_.tunnels.config()->tsp().session_timeout);
    const auto now = std::chrono::steady_clock::now();
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      auto next = std::next(it);
      if (now - it->second.last_active > idle_limit) {
        // A session that put its tunnel live was counted then: its idling is no time-out.
        if (env_.counters && !it->second.session->tunnel_went_live())
          env_.counters->session(metrics::SessionResult::timeout);
        erase(it);
      }
      it = next;
    }
    schedule_sweep();
  });
}

}  // namespace tsp
