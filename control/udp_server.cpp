#include "control/udp_server.hpp"

#include <spdlog/spdlog.h>

#include "control/framing.hpp"

namespace tsp {

namespace asio = boost::asio;
using udp = asio::ip::udp;

namespace {
constexpr int kReceiveBufferBytes = 8 * 1024 * 1024;
constexpr int kDatagramsPerTurn = 64;
}  // namespace

UdpTspServer::UdpTspServer(asio::io_context& io, SessionEnv& env, SessionLimiter& limiter,
                           const udp::endpoint& bind_to)
    : socket_(io), sweep_timer_(io), env_(env), limiter_(limiter) {
  socket_.open(bind_to.protocol());
  socket_.set_option(udp::socket::reuse_address(true));
  // Thousands of clients answering at once overflow the default ~200 KiB queue, and every
  // dropped datagram costs its client a retransmission time-out (seconds). The kernel caps
  // the request at net.core.rmem_max; a smaller buffer is not worth failing over.
  boost::system::error_code ignored;
  socket_.set_option(asio::socket_base::receive_buffer_size(kReceiveBufferBytes), ignored);
  // Synchronous calls must never block the I/O thread: a full queue drops a reply (the
  // client retransmits and gets the cached one) rather than stalling every session.
  socket_.non_blocking(true);
  socket_.bind(bind_to);
}

void UdpTspServer::start() {
  receive();
  schedule_sweep();
}

void UdpTspServer::stop() {
  stopped_ = true;
  boost::system::error_code ec;
  socket_.close(ec);
  sweep_timer_.cancel();
  while (!sessions_.empty()) erase(sessions_.begin());
}

void UdpTspServer::receive() {
  socket_.async_receive_from(asio::buffer(buffer_), from_, [this](boost::system::error_code ec, size_t n) {
    if (stopped_ || ec == asio::error::operation_aborted) return;
    if (!ec) on_datagram(std::string_view(buffer_.data(), n), from_);
    // Then what else is queued, up to a batch: one datagram per turn of the I/O loop would
    // give all UDP clients together the share of a single TCP connection. The socket is
    // non-blocking, so an empty queue ends the batch at once.
    for (int i = 1; i < kDatagramsPerTurn && !stopped_; ++i) {
      const size_t got = socket_.receive_from(asio::buffer(buffer_), from_, 0, ec);
      if (ec) break;
      on_datagram(std::string_view(buffer_.data(), got), from_);
    }
    if (!stopped_) receive();
  });
}

void UdpTspServer::send(const RudpHeader& h, std::string_view payload, const udp::endpoint& to) {
  std::array<asio::const_buffer, 2> parts{asio::buffer(h.raw), asio::buffer(payload.data(), payload.size())};
  boost::system::error_code ec;
  socket_.send_to(parts, to, 0, ec);
  if (ec) spdlog::debug("udp send to {}: {}", to.address().to_string(), ec.message());
  ++counters_.replies;
}

void UdpTspServer::erase(std::map<Key, Slot>::iterator it) {
  if (it->second.holds_limit) limiter_.release();
  sessions_.erase(it);
}

void UdpTspServer::on_datagram(std::string_view datagram, const udp::endpoint& from) {
  ++counters_.datagrams;
  if (!from.address().is_v4()) return;
  const Ipv4Addr addr{from.address().to_v4().to_uint()};
  const uint16_t port = from.port();
  const auto kind = classify_datagram(datagram);
  if (kind == DatagramKind::Ipv6Data) {
    // Tunnel data on the TSP socket only arrives here when no dataplane runs: it still proves
    // the client alive (its keepalives), but there is nowhere to forward it.
    env_.tunnels.note_udp_activity(addr, port, env_.now());
    ++counters_.dropped_data;
    return;
  }
  const auto msg = parse_rudp(datagram);
  if (!msg) {
    ++counters_.dropped_malformed;
    return;
  }
  const auto payload = msg->payload;
  const Key key{addr.value, port};
  auto it = sessions_.find(key);
  const bool is_version = payload.substr(0, 8) == "VERSION=";

  if (it != sessions_.end() && it->second.seen_request && it->second.last_sequence == msg->header.sequence_word()) {
    // A retransmission: same answer, same state (§1.3).
    it->second.last_active = std::chrono::steady_clock::now();
    if (it->second.answered) {
      send(msg->header, it->second.last_reply, from);
      ++counters_.retransmissions_answered;
    }
    return;
  }
  if (it == sessions_.end()) {
    if (!is_version) {
      if (strip_line_end(payload) == "ECHO REQUEST") {
        send(msg->header, status_line(Status::Success), from);
        return;
      }
      ++counters_.dropped_unknown_session;  // silence: no reflection toward forged sources
      return;
    }
    if (!accepting_ || !limiter_.try_acquire()) {
      ++counters_.refused_busy;
      if (env_.counters) env_.counters->refused(Status::ServerTooBusy);
      send(msg->header, status_line(Status::ServerTooBusy), from);
      return;
    }
    Slot slot;
    slot.session = std::make_unique<TspSession>(env_, Peer{true, addr, port});
    slot.holds_limit = true;
    it = sessions_.emplace(key, std::move(slot)).first;
  }
  auto& slot = it->second;
  slot.last_active = std::chrono::steady_clock::now();
  slot.seen_request = true;
  slot.last_sequence = msg->header.sequence_word();
  const bool was_established = slot.session->tunnel_established();
  auto out = slot.session->on_message(payload);
  slot.answered = !out.replies.empty();
  slot.last_reply = slot.answered ? out.replies.front().payload : std::string();
  if (slot.answered) send(msg->header, slot.last_reply, from);
  // A session whose tunnel is up no longer counts as unfinished.
  if (!was_established && slot.session->tunnel_established() && slot.holds_limit) {
    limiter_.release();
    slot.holds_limit = false;
  }
  if (out.close) erase(it);
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
        // An established session only idles while its tunnel lives: no time-out for it.
        if (env_.counters && !it->second.session->tunnel_established())
          env_.counters->session(metrics::SessionResult::timeout);
        erase(it);
      }
      it = next;
    }
    schedule_sweep();
  });
}

}  // namespace tsp
