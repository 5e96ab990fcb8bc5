// tspc's UDP and TCP control transports against small loopback servers.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "tools/tspc/control_transport.hpp"
#include "tools/tunnel/unique_fd.hpp"

using namespace tsp;
using namespace tsp::tspc;
using tsp::tunnel::UniqueFd;

namespace {

// A socket of `type` bound to 127.0.0.1 on a free port.
UniqueFd bound_socket(int type, uint16_t& port) {
  UniqueFd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
  REQUIRE(fd.valid());
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  socklen_t len = sizeof sa;
  REQUIRE(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&sa), &len) == 0);
  port = ntohs(sa.sin_port);
  return fd;
}

TransportSettings loopback(uint16_t port) {
  TransportSettings s;
  s.server = *Ipv4Addr::parse("127.0.0.1");
  s.port = port;
  s.tcp_read_timeout = std::chrono::milliseconds(3000);
  return s;
}

uint32_t word_of(const std::string& d) {
  const auto* b = reinterpret_cast<const unsigned char*>(d.data());
  return uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | b[3];
}

// Receives one datagram (2.5 s at most) and says where it came from.
std::string receive_from(int fd, sockaddr_in& from) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 2500) != 1) return {};
  char buffer[4096];
  socklen_t len = sizeof from;
  const ssize_t n = ::recvfrom(fd, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from), &len);
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string();
}

void reply_to(int fd, const sockaddr_in& to, const std::string& datagram) {
  ::sendto(fd, datagram.data(), datagram.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
}

}  // namespace

TEST_CASE("UDP transport: headers, echo matching, sequence per message", "[tspc][transport]") {
  uint16_t port = 0;
  UniqueFd server = bound_socket(SOCK_DGRAM, port);
  std::vector<std::string> seen;
  std::thread broker([&] {
    for (int i = 0; i < 2; ++i) {
      sockaddr_in from{};
      const std::string d = receive_from(server.get(), from);
      seen.push_back(d);
      if (d.size() < 8) return;
      // A stray datagram first (wrong sequence), then the real answer.
      reply_to(server.get(), from, std::string("\xF0\x00\x00\x01", 4) + std::string(4, '\0') + "stray");
      reply_to(server.get(), from, d.substr(0, 8) + "answer " + std::to_string(i));
    }
  });
  auto t = open_udp_transport(loopback(port));
  CHECK(t->is_udp());
  CHECK(t->local_address() == Ipv4Addr::parse("127.0.0.1"));
  CHECK(t->exchange("VERSION=2.0.2\r\n") == "answer 0");
  CHECK(t->receive_next() == "answer 1");  // a header-only request
  broker.join();
  REQUIRE(seen.size() == 2);
  CHECK(word_of(seen[0]) == 0xF00000F0u);
  CHECK(seen[0].substr(8) == "VERSION=2.0.2\r\n");
  CHECK(word_of(seen[1]) == 0xF00000F1u);
  CHECK(seen[1].size() == 8);
}

TEST_CASE("UDP transport: a lost datagram is sent again with the same sequence word", "[tspc][transport]") {
  uint16_t port = 0;
  UniqueFd server = bound_socket(SOCK_DGRAM, port);
  std::vector<std::string> seen;
  std::thread broker([&] {
    sockaddr_in from{};
    seen.push_back(receive_from(server.get(), from));  // dropped
    seen.push_back(receive_from(server.get(), from));
    if (seen.back().size() >= 8) reply_to(server.get(), from, seen.back().substr(0, 8) + "200 Success\r\n");
  });
  auto t = open_udp_transport(loopback(port));
  const auto start = std::chrono::steady_clock::now();
  CHECK(t->exchange("ECHO REQUEST") == "200 Success\r\n");
  const auto took = std::chrono::steady_clock::now() - start;
  broker.join();
  REQUIRE(seen.size() == 2);
  CHECK(word_of(seen[0]) == word_of(seen[1]));
  CHECK(seen[1].substr(8) == "ECHO REQUEST");
  CHECK(took >= std::chrono::milliseconds(1900));  // the first RTO is 2 s
  CHECK(took < std::chrono::milliseconds(3500));
}

TEST_CASE("UDP transport: nobody listening is reported at once as refused", "[tspc][transport]") {
  uint16_t port = 0;
  { UniqueFd closed = bound_socket(SOCK_DGRAM, port); }  // a port that was free a moment ago
  auto t = open_udp_transport(loopback(port));
  const auto start = std::chrono::steady_clock::now();
  try {
    (void)t->exchange("VERSION=2.0.2\r\n");
    FAIL("an answer from a closed port");
  } catch (const TransportError& e) {
    CHECK(e.kind() == TransportError::Kind::Refused);
  }
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
}

TEST_CASE("TCP transport: the stream is cut into the broker's messages", "[tspc][transport]") {
  uint16_t port = 0;
  UniqueFd listener = bound_socket(SOCK_STREAM, port);
  REQUIRE(::listen(listener.get(), 1) == 0);
  const std::string offer_body = "200 Success\r\n<tunnel action=\"info\"></tunnel>\r\n";
  const std::string offer = "Content-length: " + std::to_string(offer_body.size()) + "\r\n" + offer_body;
  std::string received;
  std::thread broker([&] {
    UniqueFd c(::accept(listener.get(), nullptr, nullptr));
    char buffer[512];
    const ssize_t n = ::recv(c.get(), buffer, sizeof buffer, 0);
    if (n > 0) received.assign(buffer, static_cast<size_t>(n));
    const std::string two = "cnNwYXV0aD0x\r\n200 Success\r\n";  // two replies in one segment
    ::send(c.get(), two.data(), two.size(), 0);
    ::send(c.get(), offer.data(), 25, 0);  // a framed reply in two segments
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ::send(c.get(), offer.data() + 25, offer.size() - 25, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  });
  auto t = open_tcp_transport(loopback(port));
  CHECK_FALSE(t->is_udp());
  CHECK(t->exchange("response\r\n") == "cnNwYXV0aD0x\r\n");
  CHECK(t->receive_next() == "200 Success\r\n");
  CHECK(t->receive_next() == offer);
  broker.join();
  CHECK(received == "response\r\n");
  try {
    (void)t->receive_next();
    FAIL("a message after the broker closed");
  } catch (const TransportError& e) {
    CHECK(e.kind() == TransportError::Kind::Io);
  }
}

TEST_CASE("TCP transport: connection refused and if_source", "[tspc][transport]") {
  uint16_t port = 0;
  { UniqueFd closed = bound_socket(SOCK_STREAM, port); }
  try {
    (void)open_tcp_transport(loopback(port));
    FAIL("connected to a closed port");
  } catch (const TransportError& e) {
    CHECK(e.kind() == TransportError::Kind::Refused);
  }
  TransportSettings s = loopback(port);
  s.bind = *Ipv4Addr::parse("192.0.2.123");  // not ours: bind fails with a clear message
  try {
    (void)open_udp_transport(s);
    FAIL("bound to an address that is not local");
  } catch (const TransportError& e) {
    CHECK(std::string(e.what()).find("if_source 192.0.2.123") != std::string::npos);
  }
}
