#include "tools/tunnel/proto41_relay.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <system_error>

namespace tsp::tunnel {
namespace {

constexpr size_t kIpv4MinHeaderSize = 20;

sockaddr_in socket_address(Ipv4Addr a) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(a.value);
  return sa;
}

[[noreturn]] void throw_errno(int error, const std::string& what) {
  throw std::system_error(error, std::generic_category(), what);
}

}  // namespace

Proto41Parse parse_proto41_datagram(Bytes d, Ipv4Addr server) {
  if (d.size() < kIpv4MinHeaderSize || (d[0] >> 4) != 4) return {Inbound::malformed, {}};
  const size_t header_length = static_cast<size_t>(d[0] & 0x0F) * 4;
  const size_t total_length = static_cast<size_t>(d[2] << 8 | d[3]);
  if (header_length < kIpv4MinHeaderSize || total_length < header_length || total_length > d.size())
    return {Inbound::malformed, {}};
  const uint32_t source = uint32_t{d[12]} << 24 | uint32_t{d[13]} << 16 | uint32_t{d[14]} << 8 | d[15];
  if (source != server.value) return {Inbound::not_from_server, {}};
  if (d[9] != kProtocolIpv6InIpv4) return {Inbound::malformed, {}};
  const Bytes inner = d.subspan(header_length, total_length - header_length);
  if (!is_complete_ipv6(inner)) return {Inbound::not_ipv6, {}};
  return {Inbound::packet, inner};
}

Proto41Relay::Proto41Relay(Ipv4Addr local, Ipv4Addr server)
    : fd_(::socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, kProtocolIpv6InIpv4)), server_(server) {
  if (!fd_.valid()) throw_errno(errno, "raw IPPROTO_IPV6 socket (needs CAP_NET_RAW)");
  if (local.value != 0) {
    const sockaddr_in sa = socket_address(local);
    if (::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
      const int error = errno;
      throw_errno(error, "bind raw protocol-41 socket to " + local.to_string());
    }
  }
  enlarge_receive_buffer(fd_.get());
  // connect() makes the kernel deliver only datagrams from the server to this socket.
  const sockaddr_in sa = socket_address(server);
  if (::connect(fd_.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
    const int error = errno;
    throw_errno(error, "connect raw protocol-41 socket to " + server.to_string());
  }
}

bool Proto41Relay::send_packet(Bytes ipv6_packet) {
  const ssize_t n = ::send(fd_.get(), ipv6_packet.data(), ipv6_packet.size(), 0);
  if (n == static_cast<ssize_t>(ipv6_packet.size())) return true;
  if (n < 0 && (errno == EINTR || is_transient_socket_error(errno))) return false;
  if (n >= 0) return false;  // a raw datagram is never cut short; count it as lost
  throw_errno(errno, "send on the protocol-41 socket");
}

InboundDatagram Proto41Relay::receive(std::span<uint8_t> buffer) {
  const ssize_t n = ::recv(fd_.get(), buffer.data(), buffer.size(), 0);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return {Inbound::would_block, {}};
    if (is_transient_socket_error(errno)) return {Inbound::transient_error, {}};
    throw_errno(errno, "recv on the protocol-41 socket");
  }
  const Proto41Parse parsed = parse_proto41_datagram(Bytes(buffer.data(), static_cast<size_t>(n)), server_);
  return {parsed.kind, parsed.inner};
}

}  // namespace tsp::tunnel
