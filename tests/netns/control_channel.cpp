#include "tests/netns/control_channel.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace tsp::netns {
namespace {

using Millis = std::chrono::milliseconds;
using tunnel::UniqueFd;

constexpr Millis kRudpTimeout{2000};  // gogoc's first RTO
constexpr int kRudpTries = 3;         // gogoc's tries before the first answer
constexpr Millis kTcpTimeout{5000};
constexpr size_t kReceiveBuffer = 4096;  // gogoc's

// Callers pass errno first thing, before building the message can disturb it.
[[noreturn]] void fail(int error, const std::string& what) {
  throw NegotiationError(what + ": " + std::strerror(error));
}

sockaddr_in socket_address(Endpoint e) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(e.port);
  sa.sin_addr.s_addr = htonl(e.address.value);
  return sa;
}

std::string label(Endpoint e) { return e.address.to_string() + ":" + std::to_string(e.port); }

UniqueFd connected_socket(int type, Endpoint server, Ipv4Addr bind) {
  UniqueFd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
  if (!fd.valid()) fail(errno, "socket");
  const sockaddr_in local = socket_address({bind, 0});
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0) {
    const int error = errno;
    fail(error, "bind " + bind.to_string());
  }
  const sockaddr_in remote = socket_address(server);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&remote), sizeof remote) != 0) {
    const int error = errno;
    fail(error, "connect " + label(server));
  }
  return fd;
}

Endpoint local_of(int fd) {
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) fail(errno, "getsockname");
  return {Ipv4Addr{ntohl(sa.sin_addr.s_addr)}, ntohs(sa.sin_port)};
}

bool wait_readable(int fd, Millis timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) fail(errno, "poll");
  }
}

uint32_t load_be32(const char* p) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  return uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | b[3];
}

void append_be32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>(v >> shift);
}

class RudpChannel final : public ControlChannel {
 public:
  RudpChannel(Endpoint server, Ipv4Addr bind)
      : server_(server),
        fd_(connected_socket(SOCK_DGRAM, server, bind)),
        epoch_(std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now())) {}

  std::string request(std::string_view payload) override {
    const uint32_t word = 0xF0000000u | counter_++;
    for (int attempt = 0; attempt < kRudpTries; ++attempt) {
      std::string datagram;
      append_be32(datagram, word);
      append_be32(datagram, timestamp());
      datagram += payload;
      if (::send(fd_.get(), datagram.data(), datagram.size(), 0) != static_cast<ssize_t>(datagram.size())) {
        const int error = errno;
        fail(error, "send to " + label(server_));
      }
      if (auto reply = wait_reply(word)) return *reply;
    }
    throw NegotiationError("no answer from " + label(server_) + " over UDP after " + std::to_string(kRudpTries) +
                           " tries");
  }
  void send_only(std::string_view payload) override { (void)request(payload); }
  std::string read_pushed() override { throw NegotiationError("RUDP servers never send unasked"); }
  bool is_udp() const override { return true; }
  Endpoint local_endpoint() const override { return local_of(fd_.get()); }
  UniqueFd release_socket() override { return std::move(fd_); }

 private:
  uint32_t timestamp() const {
    const auto elapsed = std::chrono::system_clock::now() - epoch_;
    return static_cast<uint32_t>(std::chrono::duration_cast<Millis>(elapsed).count());
  }

  // The answer carrying `word`; other datagrams are ignored, as gogoc ignores them.
  std::optional<std::string> wait_reply(uint32_t word) {
    const auto deadline = std::chrono::steady_clock::now() + kRudpTimeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
      if (!wait_readable(fd_.get(), left)) return std::nullopt;
      char buffer[kReceiveBuffer];
      const ssize_t n = ::recv(fd_.get(), buffer, sizeof buffer, 0);
      if (n < 0) {
        const int error = errno;
        fail(error, "receive from " + label(server_) + " over UDP");
      }
      if (n >= 8 && load_be32(buffer) == word) return std::string(buffer + 8, static_cast<size_t>(n) - 8);
    }
  }

  Endpoint server_;
  UniqueFd fd_;
  uint32_t counter_ = 0xF0;  // gogoc's first sequence number
  std::chrono::system_clock::time_point epoch_;
};

class TcpChannel final : public ControlChannel {
 public:
  TcpChannel(Endpoint server, Ipv4Addr bind) : server_(server), fd_(connected_socket(SOCK_STREAM, server, bind)) {}

  std::string request(std::string_view payload) override {
    send_only(payload);
    return read_pushed();
  }
  void send_only(std::string_view payload) override {
    while (!payload.empty()) {
      const ssize_t n = ::send(fd_.get(), payload.data(), payload.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        const int error = errno;
        fail(error, "send to " + label(server_) + " over TCP");
      }
      payload.remove_prefix(static_cast<size_t>(n));
    }
  }
  std::string read_pushed() override {
    if (!wait_readable(fd_.get(), kTcpTimeout)) throw NegotiationError("no answer from " + label(server_) + " over TCP");
    char buffer[kReceiveBuffer];
    const ssize_t n = ::recv(fd_.get(), buffer, sizeof buffer, 0);
    if (n < 0) {
      const int error = errno;
      fail(error, "receive from " + label(server_) + " over TCP");
    }
    if (n == 0) throw NegotiationError(label(server_) + " closed the TCP session");
    return std::string(buffer, static_cast<size_t>(n));
  }
  bool is_udp() const override { return false; }
  Endpoint local_endpoint() const override { return local_of(fd_.get()); }
  UniqueFd release_socket() override { return std::move(fd_); }

 private:
  Endpoint server_;
  UniqueFd fd_;
};

}  // namespace

std::unique_ptr<ControlChannel> open_udp_channel(Endpoint server, Ipv4Addr bind) {
  return std::make_unique<RudpChannel>(server, bind);
}

std::unique_ptr<ControlChannel> open_tcp_channel(Endpoint server, Ipv4Addr bind) {
  return std::make_unique<TcpChannel>(server, bind);
}

}  // namespace tsp::netns
