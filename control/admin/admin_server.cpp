#include "control/admin/admin_server.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>

#include "control/admin/admin_connection.hpp"
#include "control/admin/admin_socket_file.hpp"

namespace tsp::admin {

namespace asio = boost::asio;
using stream = asio::local::stream_protocol;

AdminServer::AdminServer(asio::io_context& io, AdminCommands& commands, std::string path, AccessPolicy policy,
                         std::chrono::milliseconds idle_timeout)
    : io_(io),
      commands_(commands),
      path_(std::move(path)),
      policy_(std::move(policy)),
      idle_timeout_(idle_timeout),
      acceptor_(io),
      retry_(io) {}

AdminServer::~AdminServer() {
  stop();
  renderer_.join();  // a render in progress finishes; its reply finds the connection closed
}

void AdminServer::start() {
  prepare_socket_path(path_);
  acceptor_.open(stream());
  acceptor_.bind(stream::endpoint(path_));
  listening_ = true;  // the file is ours from here on: stop() removes it
  // Bound but not listening: nobody can connect before the mode is right.
  restrict_socket_file(path_, policy_);
  acceptor_.listen();
  accept();
}

void AdminServer::stop() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  retry_.cancel();
  for (auto& weak : connections_)
    if (auto c = weak.lock()) c->close();
  connections_.clear();
  if (listening_) {
    ::unlink(path_.c_str());
    listening_ = false;
  }
}

void AdminServer::accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, stream::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) {
      std::erase_if(connections_, [](const auto& weak) { return weak.expired(); });
      if (connections_.size() >= kMaxConnections) {
        spdlog::warn("admin: {} connections open, one more refused", connections_.size());
      } else {
        auto connection = std::make_shared<AdminConnection>(std::move(socket), commands_, policy_, renderer_, idle_timeout_);
        connections_.push_back(connection);
        connection->start();
      }
    } else {
      spdlog::warn("admin: accept on {}: {}", path_, ec.message());
      retry_.expires_after(std::chrono::milliseconds(100));
      retry_.async_wait([this](boost::system::error_code wait_ec) {
        if (!wait_ec && acceptor_.is_open()) accept();
      });
      return;
    }
    accept();
  });
}

}  // namespace tsp::admin
