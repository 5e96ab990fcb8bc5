#include "control/tcp_server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <set>

#include "control/framing.hpp"

namespace tsp {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// One client connection. Keeps itself alive through its pending handlers (shared_from_this).
class TcpTspServer::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, TcpTspServer& server, bool holds_limit)
      : socket_(std::move(socket)),
        idle_timer_(socket_.get_executor()),
        delay_timer_(socket_.get_executor()),
        server_(server),
        alive_(server.alive_),
        holds_limit_(holds_limit),
        session_(server.env_, peer_of(socket_)) {}

  ~Connection() { release_limit(); }

  void start() {
    arm_idle_timer();
    read();
  }

  // Refuses a connection over the session limit: one status line, then close.
  void refuse_busy() {
    queue_.push_back({status_line(Status::ServerTooBusy), {}});
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
  static Peer peer_of(const tcp::socket& s) {
    boost::system::error_code ec;
    auto ep = s.remote_endpoint(ec);
    Peer p;
    p.udp = false;
    if (!ec && ep.address().is_v4()) p.addr = Ipv4Addr{ep.address().to_v4().to_uint()};
    p.port = ec ? 0 : ep.port();
    return p;
  }

  bool server_alive() const { return *alive_; }

  void release_limit() {
    if (holds_limit_ && *alive_) server_.limiter_.release();
    holds_limit_ = false;
  }

  void arm_idle_timer() {
    idle_timer_.expires_after(std::chrono::seconds(server_.env_.tunnels.config()->tsp().session_timeout));
    idle_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || !self->server_alive()) return;
      if (self->session_.tunnel_established()) return;  // the client holds it open for the tunnel's life
      ++self->server_.counters_.closed_idle;
      if (auto* counters = self->server_.env_.counters) counters->session(metrics::SessionResult::timeout);
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
    arm_idle_timer();
    splitter_.append(bytes);
    while (auto msg = splitter_.next()) {
      const bool was_established = session_.tunnel_established();
      auto out = session_.on_message(*msg);
      for (auto& r : out.replies)
        if (!r.payload.empty()) queue_.push_back(std::move(r));
      if (!was_established && session_.tunnel_established()) release_limit();
      if (out.close) {
        close_after_write_ = true;
        break;
      }
    }
    if (!splitter_.error().empty() && !close_after_write_) {
      spdlog::info("tcp {}: {}", session_.peer().addr.to_string(), splitter_.error());
      ++server_.counters_.closed_bad_framing;
      queue_.push_back({frame_content(status_line(Status::InvalidRequest)), {}});
      close_after_write_ = true;
    }
    write_next();
    if (!close_after_write_) read();
  }

  void write_next() {
    if (writing_) return;
    if (queue_.empty()) {
      if (close_after_write_) close();
      return;
    }
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
};

TcpTspServer::TcpTspServer(asio::io_context& io, SessionEnv& env, SessionLimiter& limiter,
                           const tcp::endpoint& bind_to)
    : io_(io), acceptor_(io), env_(env), limiter_(limiter) {
  acceptor_.open(bind_to.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(bind_to);
  acceptor_.listen(asio::socket_base::max_listen_connections);
}

TcpTspServer::~TcpTspServer() { *alive_ = false; }

void TcpTspServer::start() { accept(); }

void TcpTspServer::stop() {
  stopped_ = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
}

void TcpTspServer::accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (stopped_ || ec == asio::error::operation_aborted) return;
    if (!ec) {
      ++counters_.accepted;
      socket.set_option(tcp::no_delay(true), ec);
      const bool admitted = limiter_.try_acquire();
      auto conn = std::make_shared<Connection>(std::move(socket), *this, admitted);
      if (admitted) {
        conn->start();
      } else {
        ++counters_.refused_busy;
        if (env_.counters) env_.counters->refused(Status::ServerTooBusy);
        conn->refuse_busy();
      }
    } else if (ec == asio::error::no_descriptors) {
      spdlog::warn("tcp accept: out of file descriptors");
    }
    accept();
  });
}

}  // namespace tsp
