#include "control/tcp_server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <set>

#include "control/framing.hpp"
#include "control/log_text.hpp"
#include "control/password_checker.hpp"

namespace tsp {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
// Connections taken from the listen queue per readiness of the listener: one each cost a trip
// through the reactor per client, and under load kept new clients waiting in the backlog.
constexpr int kAcceptsPerTurn = 32;

Peer peer_of(const tcp::endpoint& ep) {
  Peer p;
  p.udp = false;
  if (ep.address().is_v4()) p.addr = Ipv4Addr{ep.address().to_v4().to_uint()};
  p.port = ep.port();
  return p;
}
}  // namespace

// One client connection. Keeps itself alive through its pending handlers (shared_from_this).
class TcpTspServer::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, const tcp::endpoint& peer, TcpTspServer& server, bool holds_limit)
      : socket_(std::move(socket)),
        idle_timer_(socket_.get_executor()),
        delay_timer_(socket_.get_executor()),
        server_(server),
        alive_(server.alive_),
        holds_limit_(holds_limit),
        session_(server.env_, peer_of(peer)) {
    // Replies are written synchronously when the socket takes them (it nearly always does:
    // they are small and the client waits for each), without a completion handler.
    boost::system::error_code ec;
    socket_.non_blocking(true, ec);
  }

  ~Connection() {
    release_limit();
    if (*alive_) server_.connections_.erase(this);
  }

  void start() {
    server_.connections_.emplace(this, weak_from_this());
    last_activity_ = std::chrono::steady_clock::now();
    arm_idle_timer(std::chrono::seconds(server_.env_.tunnels.config()->tsp().session_timeout));
    read();
  }

  // Refuses a connection over the session limit: one status line, then close.
  void refuse_busy() {
    queue_.push_back({status_line(Status::ServerTooBusy), {}});
    close_after_write_ = true;
    write_next();
  }

  // The tunnel of commit `serial` is gone. Unless the session has let go of it already (its
  // own delete, or a new VERSION=), the client holds this connection for a tunnel that no
  // longer exists: what is queued goes out, then the connection closes.
  void tunnel_gone(uint64_t serial) {
    const auto& tunnel = session_.tunnel();
    if (!tunnel || tunnel->commit_serial != serial || close_after_write_) return;
    spdlog::info("tcp {}:{}: tunnel {} no longer forwards and this session did not delete it; closing",
                 session_.peer().addr.to_string(), session_.peer().port, tunnel->id);
    server_.transport_.tcp_closed(metrics::TcpClose::tunnel_gone);
    close_after_write_ = true;
    write_next();
  }

  // The session's user was deleted: a session logged in as them ends (one holding a tunnel
  // heard first that the tunnel went).
  void user_deleted(const std::string& user) {
    if (close_after_write_ || session_.identity().anonymous() || session_.identity().user != user) return;
    spdlog::info("tcp {}:{}: user '{}' deleted; closing", session_.peer().addr.to_string(), session_.peer().port,
                 printable(user));
    server_.transport_.tcp_closed(metrics::TcpClose::user_deleted);
    close_after_write_ = true;
    write_next();
  }

  void close() {
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    idle_timer_.cancel();
    delay_timer_.cancel();
  }

 private:
  bool server_alive() const { return *alive_; }

  void release_limit() {
    if (holds_limit_ && *alive_) server_.limiter_.release(session_.peer().addr);
    holds_limit_ = false;
  }

  bool retake_limit() {
    const auto admission = server_.limiter_.try_acquire(session_.peer().addr);
    holds_limit_ = admission == SessionLimiter::Admission::admitted;
    if (!holds_limit_) {
      if (server_.env_.counters) server_.env_.counters->refused(Status::ServerTooBusy);
      server_.transport_.session_limited(limit_met(admission));
    }
    return holds_limit_;
  }

  // One wait per idle period rather than a re-armed timer per message (each re-arm cancels
  // the pending wait, which costs a handler run): when it fires early because bytes came
  // meanwhile, it waits for the rest of the period since the last ones.
  void arm_idle_timer(std::chrono::steady_clock::duration after) {
    idle_timer_.expires_after(after);
    idle_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || !self->server_alive()) return;
      const auto limit = std::chrono::seconds(self->server_.env_.tunnels.config()->tsp().session_timeout);
      // The client holds the connection open for its tunnel's life; once the tunnel is gone
      // (deleted, expired, kicked, replaced) the connection idles out like any other.
      if (self->session_.tunnel_established()) return self->arm_idle_timer(limit);
      const auto idle = std::chrono::steady_clock::now() - self->last_activity_;
      if (idle < limit) return self->arm_idle_timer(limit - idle);
      self->server_.transport_.tcp_closed(metrics::TcpClose::idle);
      // A session that put its tunnel live was counted then: its idling is no time-out.
      auto* counters = self->server_.env_.counters;
      if (counters && !self->session_.tunnel_went_live()) counters->session(metrics::SessionResult::timeout);
      self->close();
    });
  }

  void read() {
    socket_.async_read_some(asio::buffer(buffer_), [self = shared_from_this()](boost::system::error_code ec, size_t n) {
      if (ec || !self->server_alive()) {
        self->close();
        return;
      }
      self->on_bytes(std::string_view(self->buffer_.data(), n));
    });
  }

  void on_bytes(std::string_view bytes) {
    last_activity_ = std::chrono::steady_clock::now();
    splitter_.append(bytes);
    process();
  }

  // The complete messages received, in order, until one waits for a password check (the
  // rest stay in the splitter, and reading stops until the verdict) or closes the session.
  void process() {
    while (!checking_ && !close_after_write_) {
      const auto msg = splitter_.next();
      if (!msg) break;
      const bool was_established = session_.tunnel_established();
      handle(session_.on_message(*msg), was_established);
    }
    if (!checking_ && !splitter_.error().empty() && !close_after_write_) {
      spdlog::info("tcp {}: {}", session_.peer().addr.to_string(), splitter_.error());
      server_.transport_.tcp_closed(metrics::TcpClose::bad_framing);
      queue_.push_back({frame_content(status_line(Status::InvalidRequest)), {}});
      close_after_write_ = true;
    }
    write_next();
    if (!close_after_write_ && !checking_) read();
  }

  void handle(SessionOutput out, bool was_established) {
    // A session whose tunnel was up and that starts over (VERSION=, or its own delete) is
    // unfinished again: it needs a slot as a new one does, or it ends with 530.
    if (!holds_limit_ && !session_.tunnel_established() && !retake_limit()) {
      queue_.push_back({status_line(Status::ServerTooBusy), {}});
      close_after_write_ = true;
      return;
    }
    if (out.password_check) return check_password(std::move(*out.password_check));
    for (auto& r : out.replies)
      if (!r.payload.empty()) queue_.push_back(std::move(r));
    if (!was_established && session_.tunnel_established()) {
      release_limit();
      server_.hold_for_tunnel(session_.tunnel()->commit_serial, shared_from_this());
    }
    if (out.close) close_after_write_ = true;
  }

  void check_password(PasswordCheck check) {
    const uint64_t ticket = check.ticket;
    checking_ = true;
    server_.env_.password_checker->submit(std::move(check), [self = shared_from_this(), ticket](
                                                                PasswordVerdict verdict) mutable {
      // On a checker thread (or here, when it was full): back to this connection's thread,
      // which then holds the only reference (the connection must not end on a checker thread).
      const auto executor = self->socket_.get_executor();
      asio::post(executor, [self = std::move(self), ticket, verdict] {
        if (!self->server_alive()) return;
        self->checking_ = false;
        self->handle(self->session_.on_password_checked(ticket, verdict), false);
        self->process();
      });
    });
  }

  void write_next() {
    if (writing_) return;
    if (queue_.empty()) {
      if (close_after_write_) close();
      return;
    }
    if (queue_.front().delay.count() == 0 && write_now()) return write_next();
    writing_ = true;
    if (queue_.front().delay.count() > 0) {
      delay_timer_.expires_after(queue_.front().delay);
      queue_.front().delay = {};
      delay_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        self->writing_ = false;
        if (ec || !self->server_alive()) return;
        self->write_next();
      });
      return;
    }
    asio::async_write(socket_, asio::buffer(queue_.front().payload),
                      [self = shared_from_this()](boost::system::error_code ec, size_t) {
                        self->writing_ = false;
                        if (ec || !self->server_alive()) {
                          self->close();
                          return;
                        }
                        self->queue_.pop_front();
                        self->write_next();
                      });
  }

  // Writes as much of the front reply as the socket takes now. True when it all went out
  // (popped); false when the rest waits for async_write (or the socket failed: it too
  // reports the error there).
  bool write_now() {
    auto& front = queue_.front().payload;
    boost::system::error_code ec;
    const size_t n = socket_.write_some(asio::buffer(front), ec);
    if (ec) return false;
    if (n < front.size()) {
      front.erase(0, n);
      return false;
    }
    queue_.pop_front();
    return true;
  }

  tcp::socket socket_;
  asio::steady_timer idle_timer_;
  asio::steady_timer delay_timer_;
  TcpTspServer& server_;
  std::shared_ptr<bool> alive_;
  bool holds_limit_;
  TspSession session_;
  TcpMessageSplitter splitter_;
  std::array<char, 4096> buffer_{};
  std::deque<Outgoing> queue_;
  bool writing_ = false;
  bool close_after_write_ = false;
  bool checking_ = false;  // a password check runs for the session: no message is processed
  std::chrono::steady_clock::time_point last_activity_;
};

TcpTspServer::TcpTspServer(asio::io_context& io, SessionEnv& env, SessionLimiter& limiter,
                           const tcp::endpoint& bind_to)
    : owner_io_(io),
      work_(asio::make_work_guard(io_)),
      acceptor_(io_),
      env_(env),
      limiter_(limiter),
      transport_(env.counters ? env.counters->transport() : own_transport_) {
  acceptor_.open(bind_to.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  // Accepted sockets inherit TCP_NODELAY from the listener (Linux): no setsockopt per client.
  // Every reply is one write that the client waits for: Nagle would only delay it.
  acceptor_.set_option(tcp::no_delay(true));
  acceptor_.bind(bind_to);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  acceptor_.non_blocking(true);  // the accept loop must not block the I/O thread
  // Last: nothing after it may throw (the destructor, which unwatches, would not run).
  // Reported under the service's mutex, from any thread: handed to the server's thread.
  gone_watch_ = env_.tunnels.watch_gone([this](const LiveTunnel& tunnel) {
    asio::post(io_, [this, tunnel] {
      if (*alive_) on_tunnel_gone(tunnel);
    });
  });
  user_watch_ = env_.tunnels.watch_users_removed([this](const std::string& user) {
    asio::post(io_, [this, user] {
      if (!*alive_) return;
      // Copied first: a connection that closes at once leaves the registry meanwhile.
      std::vector<std::shared_ptr<Connection>> live;
      for (const auto& [raw, weak] : connections_)
        if (auto conn = weak.lock()) live.push_back(std::move(conn));
      for (const auto& conn : live) conn->user_deleted(user);
    });
  });
}

TcpTspServer::~TcpTspServer() {
  env_.tunnels.unwatch_gone(gone_watch_);  // no news posted after this
  env_.tunnels.unwatch_users_removed(user_watch_);
  auto shut = [this] {
    *alive_ = false;  // connections no longer touch the server (nor the limiter)
    stopped_ = true;
    boost::system::error_code ec;
    acceptor_.close(ec);
    io_.stop();
  };
  if (thread_.joinable()) {
    asio::post(io_, shut);
    thread_.join();  // also when the thread ended early (a handler threw): shut did not run
  }
  shut();  // the thread is gone: nothing else touches these now
  // io_ goes last: the connections still waiting in its handlers are destroyed with it.
}

void TcpTspServer::start() {
  asio::post(io_, [this] { accept(); });
  thread_ = std::thread([this] {
    try {
      io_.run();
    } catch (...) {
      // What a handler throws (a store error, say) ends the daemon as it did when TCP ran on
      // the caller's loop: rethrown there, out of its run().
      asio::post(owner_io_, [e = std::current_exception()] { std::rethrow_exception(e); });
    }
  });
}

void TcpTspServer::stop() {
  asio::post(io_, [this] {
    stopped_ = true;
    boost::system::error_code ec;
    acceptor_.close(ec);
  });
}

void TcpTspServer::hold_for_tunnel(uint64_t serial, const std::shared_ptr<Connection>& conn) {
  held_for_tunnel_[serial] = conn;
}

void TcpTspServer::on_tunnel_gone(const LiveTunnel& tunnel) {
  const auto it = held_for_tunnel_.find(tunnel.commit_serial);
  if (it == held_for_tunnel_.end()) return;  // committed over UDP, or the session let go at once
  const auto conn = it->second.lock();
  held_for_tunnel_.erase(it);
  if (conn) conn->tunnel_gone(tunnel.commit_serial);
}

void TcpTspServer::accept() {
  acceptor_.async_accept(peer_, [this](boost::system::error_code ec, tcp::socket socket) {
    if (stopped_ || ec == asio::error::operation_aborted) return;
    on_accepted(ec, std::move(socket));
    // Then what else waits in the listen queue, up to a batch (the acceptor is non-blocking).
    for (int i = 1; i < kAcceptsPerTurn && !stopped_; ++i) {
      tcp::socket next = acceptor_.accept(peer_, ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) break;
      on_accepted(ec, std::move(next));
      if (ec) break;
    }
    if (!stopped_) accept();
  });
}

void TcpTspServer::on_accepted(boost::system::error_code ec, tcp::socket socket) {
  if (!ec) {
    transport_.tcp_accepted();
    const auto admission = limiter_.try_acquire(peer_of(peer_).addr);
    const bool admitted = admission == SessionLimiter::Admission::admitted;
    auto conn = std::make_shared<Connection>(std::move(socket), peer_, *this, admitted);
    if (admitted) {
      conn->start();
    } else {
      if (env_.counters) env_.counters->refused(Status::ServerTooBusy);
      transport_.session_limited(limit_met(admission));
      conn->refuse_busy();
    }
  } else if (ec == asio::error::no_descriptors) {
    spdlog::warn("tcp accept: out of file descriptors");
  }
}

}  // namespace tsp
