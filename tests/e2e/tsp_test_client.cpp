#include "tests/e2e/tsp_test_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>

namespace tsp::e2e {
namespace {

sockaddr_in loopback_address(const std::string& ipv4, uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (inet_pton(AF_INET, ipv4.c_str(), &sa.sin_addr) != 1) FAIL("bad IPv4 literal in test: " << ipv4);
  return sa;
}

// Socket bound to `local_address` (any port) and connected to 127.0.0.1:server_port.
int connected_socket(int type, const std::string& local_address, uint16_t server_port) {
  const int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) FAIL("socket(): " << std::strerror(errno));
  const sockaddr_in local = loopback_address(local_address, 0);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0) {
    const int err = errno;
    ::close(fd);
    FAIL("bind(" << local_address << "): " << std::strerror(err));
  }
  const sockaddr_in server = loopback_address("127.0.0.1", server_port);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&server), sizeof server) != 0) {
    const int err = errno;
    ::close(fd);
    FAIL("connect(127.0.0.1:" << server_port << "): " << std::strerror(err));
  }
  return fd;
}

// True when `fd` becomes readable within `timeout`.
bool wait_readable(int fd, Millis timeout) {
  pollfd p{fd, POLLIN, 0};
  for (;;) {
    const int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (n >= 0) return n > 0;
    if (errno != EINTR) FAIL("poll(): " << std::strerror(errno));
  }
}

uint32_t load_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

void store_be32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

}  // namespace

uint32_t RudpReply::sequence_word() const { return load_be32(header.data()); }
uint32_t RudpReply::timestamp() const { return load_be32(header.data() + 4); }

std::string hex_dump(std::string_view bytes, size_t max_bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < max_bytes; ++i) {
    const auto b = static_cast<uint8_t>(bytes[i]);
    if (i) out += ' ';
    out += kHex[b >> 4];
    out += kHex[b & 0xF];
  }
  if (bytes.size() > max_bytes) out += " ... (" + std::to_string(bytes.size()) + " bytes)";
  return out;
}

std::string unique_loopback_source() {
  static uint32_t next = 100 * 256 + 1;  // 127.0.100.1 upwards, clear of the hand-picked ones
  const uint32_t n = next++;
  if ((n & 0xFF) == 0 || (n & 0xFF) == 255) return unique_loopback_source();
  return "127.0." + std::to_string((n >> 8) & 0xFF) + "." + std::to_string(n & 0xFF);
}

RudpClient::RudpClient(uint16_t server_port, const std::string& local_address)
    : fd_(connected_socket(SOCK_DGRAM, local_address, server_port)),
      epoch_(std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now())) {}

RudpClient::~RudpClient() {
  if (fd_ >= 0) ::close(fd_);
}

uint32_t RudpClient::timestamp_now() const {
  const auto elapsed = std::chrono::system_clock::now() - epoch_;
  return static_cast<uint32_t>(std::chrono::duration_cast<Millis>(elapsed).count());
}

uint32_t RudpClient::last_sequence_word() const { return load_be32(last_header_.data()); }

void RudpClient::send_with_header(uint32_t sequence_word, uint32_t timestamp) {
  store_be32(last_header_.data(), sequence_word);
  store_be32(last_header_.data() + 4, timestamp);
  std::string datagram(reinterpret_cast<const char*>(last_header_.data()), last_header_.size());
  datagram += last_payload_;
  send_raw(datagram);
}

void RudpClient::send(std::string_view payload) {
  if (sent_any_) ++counter_;
  sent_any_ = true;
  last_payload_.assign(payload);
  send_with_header(0xF0000000u | counter_, timestamp_now());
}

void RudpClient::retransmit() {
  REQUIRE(sent_any_);
  // gogoc stamps every transmission afresh; force a visible difference even within 1 ms.
  uint32_t timestamp = timestamp_now();
  if (timestamp == load_be32(last_header_.data() + 4)) ++timestamp;
  send_with_header(0xF0000000u | counter_, timestamp);
}

void RudpClient::send_raw(std::string_view datagram) {
  const ssize_t n = ::send(fd_, datagram.data(), datagram.size(), 0);
  if (n != static_cast<ssize_t>(datagram.size()))
    FAIL("UDP send of " << datagram.size() << " bytes: " << (n < 0 ? std::strerror(errno) : "short write"));
}

std::optional<std::string> RudpClient::receive_any(Millis timeout) {
  if (!wait_readable(fd_, timeout)) return std::nullopt;
  std::string buffer(65536, '\0');
  const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
  if (n < 0) {
    // ECONNREFUSED: an ICMP port unreachable, i.e. the daemon is gone.
    FAIL("UDP recv: " << std::strerror(errno));
  }
  buffer.resize(static_cast<size_t>(n));
  return buffer;
}

std::optional<RudpReply> RudpClient::wait_reply(Millis timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    auto datagram = receive_any(left);
    if (!datagram) return std::nullopt;
    if (datagram->size() >= 8 && load_be32(reinterpret_cast<const uint8_t*>(datagram->data())) ==
                                     last_sequence_word()) {
      RudpReply reply;
      std::memcpy(reply.header.data(), datagram->data(), 8);
      reply.payload = datagram->substr(8);
      return reply;
    }
    stray_.push_back(std::move(*datagram));
  }
}

RudpReply RudpClient::request(std::string_view payload, Millis timeout) {
  send(payload);
  auto reply = wait_reply(timeout);
  if (!reply) FAIL("no UDP reply within " << timeout.count() << " ms to: " << hex_dump(payload));
  return std::move(*reply);
}

TcpClient::TcpClient(uint16_t server_port, const std::string& local_address)
    : fd_(connected_socket(SOCK_STREAM, local_address, server_port)) {}

TcpClient::~TcpClient() {
  if (fd_ >= 0) ::close(fd_);
}

void TcpClient::send(std::string_view bytes) {
  if (!try_send(bytes, Millis{5000})) FAIL("TCP send of " << bytes.size() << " bytes failed");
}

bool TcpClient::try_send(std::string_view bytes, Millis timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      const auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLOUT, 0};
      ::poll(&p, 1, static_cast<int>(left.count()));
      continue;
    }
    return false;  // EPIPE / ECONNRESET: the peer closed
  }
  return true;
}

TcpRead TcpClient::recv_once(Millis timeout) {
  TcpRead result;
  if (!wait_readable(fd_, timeout)) return result;
  std::string buffer(kClientBufferSize, '\0');
  const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
  if (n <= 0) {
    result.kind = TcpRead::Kind::Closed;
    return result;
  }
  buffer.resize(static_cast<size_t>(n));
  result.kind = TcpRead::Kind::Data;
  result.data = std::move(buffer);
  return result;
}

std::string TcpClient::read_reply(Millis timeout) {
  TcpRead r = recv_once(timeout);
  if (r.kind == TcpRead::Kind::Timeout) FAIL("no TCP reply within " << timeout.count() << " ms");
  if (r.kind == TcpRead::Kind::Closed) FAIL("the daemon closed the TCP connection instead of replying");
  return std::move(r.data);
}

bool TcpClient::wait_closed_by_peer(Millis timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    const TcpRead r = recv_once(left);
    if (r.kind == TcpRead::Kind::Closed) return true;
    if (r.kind == TcpRead::Kind::Timeout) return false;
  }
}

}  // namespace tsp::e2e
