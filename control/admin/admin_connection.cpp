#include "control/admin/admin_connection.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <istream>

#include "control/admin/admin_protocol.hpp"

namespace tsp::admin {

namespace asio = boost::asio;

AdminConnection::AdminConnection(Socket socket, AdminCommands& commands, const AccessPolicy& policy,
                                 asio::thread_pool& renderer, std::chrono::milliseconds idle_timeout)
    : socket_(std::move(socket)),
      commands_(commands),
      policy_(policy),
      renderer_(renderer),
      deadline_(socket_.get_executor()),
      idle_timeout_(idle_timeout),
      input_(kMaxRequestBytes + 1) {}

void AdminConnection::start() {
  const auto peer = peer_identity(socket_.native_handle());
  if (!peer) {
    spdlog::warn("admin: connection without peer credentials refused");
    send(encode_error(ErrorStatus::PermissionDenied, "permission denied: peer credentials unavailable"), true);
    return;
  }
  peer_ = fmt::format("uid {} pid {}", peer->uid, peer->pid);
  if (auto refusal = policy_.check(*peer)) {
    spdlog::warn("admin: {} refused", peer_);
    send(encode_error(ErrorStatus::PermissionDenied, *refusal), true);
    return;
  }
  read_request();
}

void AdminConnection::close() {
  if (closed_) return;
  closed_ = true;
  deadline_.cancel();
  boost::system::error_code ignored;
  socket_.shutdown(Socket::shutdown_both, ignored);
  socket_.close(ignored);
}

void AdminConnection::wait_for_peer() {
  deadline_.expires_after(idle_timeout_);  // cancels the previous wait
  deadline_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec || self->closed_) return;
    spdlog::info("admin: {}: nothing sent or read for {} ms, connection closed",
                 self->peer_.empty() ? "peer" : self->peer_, self->idle_timeout_.count());
    self->close();
  });
}

void AdminConnection::read_request() {
  wait_for_peer();
  asio::async_read_until(socket_, input_, '\n',
                         [self = shared_from_this()](boost::system::error_code ec, size_t length) {
                           if (self->closed_) return;
                           if (ec == asio::error::not_found) {
                             // The streambuf's limit: the line cannot be resynchronised.
                             self->send(encode_error(ErrorStatus::BadRequest,
                                                     fmt::format("request longer than {} bytes", kMaxRequestBytes)),
                                        true);
                             return;
                           }
                           if (ec) {  // EOF: tspctl is done
                             self->close();
                             return;
                           }
                           std::string line(asio::buffers_begin(self->input_.data()),
                                            asio::buffers_begin(self->input_.data()) + static_cast<long>(length) - 1);
                           self->input_.consume(length);
                           if (!line.empty() && line.back() == '\r') line.pop_back();
                           self->handle_line(line);
                         });
}

void AdminConnection::handle_line(const std::string& line) {
  deadline_.cancel();  // the peer did its part; rendering the reply is ours
  auto parsed = parse_request(line);
  if (auto* bad = std::get_if<RequestError>(&parsed)) {
    spdlog::info("admin: {}: bad request: {}", peer_, bad->message);
    send(encode_error(ErrorStatus::BadRequest, bad->message), false);
    return;
  }
  const auto& request = std::get<AdminRequest>(parsed);
  const std::string subject = !request.target.empty() ? request.target : request.name;  // never the password
  spdlog::info("admin: {}: {}{}{}", peer_, command_name(request.command), subject.empty() ? "" : " ", subject);
  CommandResult result = commands_.run(request);
  if (!result.render) {
    send(std::move(result.reply), false);
    return;
  }
  asio::post(renderer_, [self = shared_from_this(), render = std::move(result.render)]() mutable {
    std::string reply = render();
    auto io = self->socket_.get_executor();
    asio::post(io, [self = std::move(self), reply = std::move(reply)]() mutable {
      if (!self->closed_) self->send(std::move(reply), false);
    });
  });
}

void AdminConnection::send(std::string reply, bool close_after) {
  reply_ = std::move(reply);
  wait_for_peer();
  asio::async_write(socket_, asio::buffer(reply_),
                    [self = shared_from_this(), close_after](boost::system::error_code ec, size_t) {
                      if (self->closed_) return;
                      if (ec || close_after) {
                        self->close();
                        return;
                      }
                      self->read_request();
                    });
}

}  // namespace tsp::admin
