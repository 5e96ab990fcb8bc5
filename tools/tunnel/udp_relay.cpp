#include "tools/tunnel/udp_relay.hpp"

#include <fcntl.h>
#include <sys/socket.h>

#include <cerrno>
#include <system_error>

namespace tsp::tunnel {
namespace {

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

}  // namespace

Inbound classify_udp_payload(Bytes payload) {
  if (payload.empty()) return Inbound::not_ipv6;
  if ((payload[0] >> 4) == 0xF) return Inbound::control;
  return is_complete_ipv6(payload) ? Inbound::packet : Inbound::not_ipv6;
}

UdpRelay::UdpRelay(UniqueFd session_socket) : fd_(std::move(session_socket)) {
  socklen_t len = sizeof server_;
  if (::getpeername(fd_.get(), reinterpret_cast<sockaddr*>(&server_), &len) != 0)
    throw_errno("the v6udpv4 relay needs the connected TSP UDP socket (getpeername)");
  if (server_.sin_family != AF_INET) throw std::system_error(EAFNOSUPPORT, std::generic_category(), "v6udpv4 over IPv6");
  enlarge_receive_buffer(fd_.get());
  const int flags = ::fcntl(fd_.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd_.get(), F_SETFL, flags | O_NONBLOCK) != 0) throw_errno("O_NONBLOCK on the UDP socket");
}

bool UdpRelay::send_packet(Bytes ipv6_packet) {
  const ssize_t n = ::send(fd_.get(), ipv6_packet.data(), ipv6_packet.size(), 0);
  if (n == static_cast<ssize_t>(ipv6_packet.size())) return true;
  if (n < 0 && (errno == EINTR || is_transient_socket_error(errno))) return false;
  if (n >= 0) return false;
  throw_errno("send on the v6udpv4 socket");
}

InboundDatagram UdpRelay::receive(std::span<uint8_t> buffer) {
  sockaddr_in from{};
  socklen_t from_len = sizeof from;
  const ssize_t n = ::recvfrom(fd_.get(), buffer.data(), buffer.size(), 0, reinterpret_cast<sockaddr*>(&from), &from_len);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return {Inbound::would_block, {}};
    if (is_transient_socket_error(errno)) return {Inbound::transient_error, {}};
    throw_errno("recv on the v6udpv4 socket");
  }
  // The kernel filters a connected socket already; checked again because the data path must
  // never depend on one line of setup elsewhere.
  if (from.sin_addr.s_addr != server_.sin_addr.s_addr || from.sin_port != server_.sin_port)
    return {Inbound::not_from_server, {}};
  const Bytes payload(buffer.data(), static_cast<size_t>(n));
  const Inbound kind = classify_udp_payload(payload);
  return {kind, kind == Inbound::packet ? payload : Bytes{}};
}

}  // namespace tsp::tunnel
