// TSP over TCP (tsp-protocol.md §1.4): no framing beyond the text. tspc cuts the stream into
// the broker's messages itself (a line, or a whole Content-length frame), so two replies that
// share one segment, or one reply split over two, read the same as on UDP.
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <variant>

#include "tools/tspc/control_transport.hpp"
#include "tools/tspc/reply_parser.hpp"

namespace tsp::tspc {
namespace {

constexpr size_t kMaxMessage = 20 * 1024;

class TcpTransport final : public ControlTransport {
 public:
  explicit TcpTransport(const TransportSettings& settings)
      : settings_(settings), fd_(connect_socket(SOCK_STREAM, settings)) {}

  std::string exchange(std::string_view payload) override {
    send_all(payload);
    return read_message();
  }
  void send_unanswered(std::string_view payload) override { send_all(payload); }
  std::string receive_next() override { return read_message(); }
  bool is_udp() const override { return false; }
  Ipv4Addr local_address() const override { return socket_local_address(fd_.get()); }
  tunnel::UniqueFd release_socket() override { return std::move(fd_); }

 private:
  [[noreturn]] void fail(int error, const std::string& what) const {
    throw TransportError(TransportError::Kind::Io, what + " " + endpoint_text(settings_) + " over TCP: " + std::strerror(error));
  }

  void send_all(std::string_view payload) {
    while (!payload.empty()) {
      const ssize_t n = ::send(fd_.get(), payload.data(), payload.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) fail(n < 0 ? errno : EPIPE, "send to");
      payload.remove_prefix(static_cast<size_t>(n));
    }
    if (settings_.log) settings_.log(3, "TCP sent a message");
  }

  // Size of the first complete message in buffer_, 0 if more bytes are needed.
  size_t complete_message_size() const {
    if (buffer_.empty()) return 0;
    const auto frame = framed_reply_size(buffer_);
    if (const auto* total = std::get_if<size_t>(&frame)) {
      // A C string terminator after the frame belongs to it.
      if (*total > buffer_.size()) return 0;
      return *total < buffer_.size() && buffer_[*total] == '\0' ? *total + 1 : *total;
    }
    if (std::holds_alternative<FrameIncomplete>(frame)) return 0;
    // Not a frame: one line (the negotiation reads the status or refuses it).
    const size_t lf = buffer_.find('\n');
    if (lf == std::string::npos) return 0;
    return lf + 1 < buffer_.size() && buffer_[lf + 1] == '\0' ? lf + 2 : lf + 1;
  }

  std::string read_message() {
    const auto deadline = std::chrono::steady_clock::now() + settings_.tcp_read_timeout;
    for (;;) {
      if (const size_t size = complete_message_size(); size > 0) {
        std::string message = buffer_.substr(0, size);
        buffer_.erase(0, size);
        return message;
      }
      if (buffer_.size() > kMaxMessage) fail(EMSGSIZE, "message too long from");
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        throw TransportError(TransportError::Kind::NoAnswer, "no answer from " + endpoint_text(settings_) + " over TCP");
      pollfd p{fd_.get(), POLLIN, 0};
      const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
      if (ready < 0) {
        if (errno == EINTR) continue;
        fail(errno, "poll for");
      }
      if (ready == 0) continue;
      char chunk[4096];
      const ssize_t n = ::recv(fd_.get(), chunk, sizeof chunk, 0);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        fail(errno, "receive from");
      }
      if (n == 0) {
        if (!buffer_.empty()) {  // the server said its last words and closed: hand them over
          std::string message = std::move(buffer_);
          buffer_.clear();
          return message;
        }
        throw TransportError(TransportError::Kind::Io, endpoint_text(settings_) + " closed the TCP session");
      }
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  TransportSettings settings_;
  tunnel::UniqueFd fd_;
  std::string buffer_;
};

}  // namespace

std::unique_ptr<ControlTransport> open_tcp_transport(const TransportSettings& settings) {
  return std::make_unique<TcpTransport>(settings);
}

}  // namespace tsp::tspc
