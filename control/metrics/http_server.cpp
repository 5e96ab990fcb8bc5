#include "control/metrics/http_server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <exception>
#include <optional>

#include "control/metrics/http_routes.hpp"

namespace tsp::metrics {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

// One client connection: read a request, answer it, again while the client keeps it alive.
// Keeps itself alive through its pending handlers (shared_from_this).
class MetricsHttpServer::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, std::shared_ptr<State> state, uint64_t id)
      : stream_(std::move(socket)),
        buffer_(kMaxRequestHeaderBytes + kMaxRequestBodyBytes),
        state_(std::move(state)),
        id_(id) {}

  ~Connection() { state_->open.erase(id_); }

  void start() { read(); }
  void close() {
    boost::system::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

 private:
  void read() {
    parser_.emplace();
    apply_request_limits(*parser_);
    stream_.expires_after(state_->limits.read_timeout);
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      self->on_read(ec);
    });
  }

  void on_read(beast::error_code ec) {
    if (state_->stopped || ec == asio::error::operation_aborted) return;
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset) {
      close();
      return;
    }
    if (ec == beast::error::timeout) {
      ++state_->counters.timeouts;
      close();  // tcp_stream closed the socket already; this is for clarity
      return;
    }
    if (ec) {
      ++state_->counters.bad_requests;
      spdlog::debug("metrics http: bad request: {}", ec.message());
      write(error_response(status_for(ec), 11, reason_for(ec)));
      return;
    }
    ++state_->counters.requests;
    if (!asks_for_metrics(parser_->get())) {
      write(respond(parser_->get(), state_->render));  // never renders
      return;
    }
    render_then_write();
  }

  // The text is rendered on the server's renderer thread; the answer is written back here.
  // The renderer keeps no reference to the connection once it has posted the result, so the
  // connection always ends on the I/O thread.
  void render_then_write() {
    asio::post(*state_->renderer, [self = shared_from_this()]() mutable {
      std::optional<std::string> body;
      try {
        body = self->state_->render();
      } catch (const std::exception& e) {
        // A collector bug must cost one scrape, not the daemon.
        spdlog::error("metrics http: cannot render the metrics: {}", e.what());
      }
      auto io = self->stream_.get_executor();
      asio::post(io, [self = std::move(self), body = std::move(body)]() mutable {
        if (self->state_->stopped) return;
        if (!body) {
          self->write(error_response(http::status::internal_server_error, 11, "cannot render the metrics"));
          return;
        }
        self->write(metrics_response(self->parser_->get(), std::move(*body)));
      });
    });
  }

  static http::status status_for(const beast::error_code& ec) {
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow)
      return http::status::request_header_fields_too_large;
    if (ec == http::error::body_limit) return http::status::payload_too_large;
    if (ec == http::error::bad_version) return http::status::http_version_not_supported;
    return http::status::bad_request;
  }
  static std::string_view reason_for(const beast::error_code& ec) {
    if (ec == http::error::body_limit) return "request body too large";
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) return "request header too large";
    if (ec == http::error::bad_version) return "HTTP/1.0 or HTTP/1.1 only";
    return "malformed request";
  }

  void write(HttpResponse res) {
    response_.emplace(std::move(res));
    stream_.expires_after(state_->limits.read_timeout);
    http::async_write(stream_, *response_, [self = shared_from_this()](beast::error_code ec, size_t) {
      self->on_written(ec);
    });
  }

  void on_written(beast::error_code ec) {
    if (state_->stopped || ec) {
      close();
      return;
    }
    const bool keep_alive = response_->keep_alive();
    response_.reset();
    if (!keep_alive) {
      close();
      return;
    }
    read();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<HttpResponse> response_;
  std::shared_ptr<State> state_;
  uint64_t id_;
};

MetricsHttpServer::MetricsHttpServer(asio::io_context& io, const tcp::endpoint& bind_to,
                                     std::function<std::string()> render, HttpServerLimits limits)
    : acceptor_(io), state_(std::make_shared<State>()) {
  state_->render = std::move(render);
  state_->renderer = &renderer_;
  state_->limits = limits;
  acceptor_.open(bind_to.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(bind_to);
  acceptor_.listen(asio::socket_base::max_listen_connections);
}

MetricsHttpServer::~MetricsHttpServer() { stop(); }

void MetricsHttpServer::start() { accept(); }

void MetricsHttpServer::stop() {
  if (state_->stopped) return;
  state_->stopped = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
  // Closing may destroy connections, which erase themselves from the map: close a copy.
  const auto open = state_->open;
  for (const auto& [id, weak] : open) {
    if (auto conn = weak.lock()) conn->close();
  }
  renderer_.join();  // a rendering in progress reads the daemon's state: it ends before we return
}

tcp::endpoint MetricsHttpServer::local_endpoint() const {
  boost::system::error_code ec;
  return acceptor_.local_endpoint(ec);
}

size_t MetricsHttpServer::open_connections() const { return state_->open.size(); }

const HttpServerCounters& MetricsHttpServer::counters() const { return state_->counters; }

void MetricsHttpServer::accept() {
  acceptor_.async_accept([this, state = state_](boost::system::error_code ec, tcp::socket socket) {
    if (state->stopped || ec == asio::error::operation_aborted) return;
    if (!ec) {
      if (state->open.size() >= state->limits.max_connections) {
        ++state->counters.refused_connections;
        boost::system::error_code ignored;
        socket.close(ignored);
      } else {
        ++state->counters.connections;
        const uint64_t id = state->next_id++;
        auto conn = std::make_shared<Connection>(std::move(socket), state, id);
        state->open.emplace(id, conn);
        conn->start();
      }
    } else if (ec == asio::error::no_descriptors) {
      spdlog::warn("metrics http accept: out of file descriptors");
    }
    accept();
  });
}

}  // namespace tsp::metrics
