// Socket set-up shared by the UDP and TCP transports.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "tools/tspc/control_transport.hpp"

namespace tsp::tspc {
namespace {

sockaddr_in socket_address(Ipv4Addr address, uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(address.value);
  return sa;
}

}  // namespace

std::string endpoint_text(const TransportSettings& settings) {
  return settings.server.to_string() + ":" + std::to_string(settings.port);
}

tunnel::UniqueFd connect_socket(int type, const TransportSettings& settings) {
  const char* kind = type == SOCK_DGRAM ? "UDP" : "TCP";
  tunnel::UniqueFd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
  if (!fd.valid()) throw TransportError(TransportError::Kind::Io, std::string(kind) + " socket: " + std::strerror(errno));
  if (settings.bind) {
    const sockaddr_in local = socket_address(*settings.bind, 0);
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0) {
      const int error = errno;
      throw TransportError(TransportError::Kind::Io, "bind to if_source " + settings.bind->to_string() + ": " + std::strerror(error));
    }
  }
  const sockaddr_in remote = socket_address(settings.server, settings.port);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&remote), sizeof remote) != 0) {
    const int error = errno;
    const auto kind_of_failure = (error == ECONNREFUSED || error == ETIMEDOUT || error == EHOSTUNREACH || error == ENETUNREACH)
                                     ? TransportError::Kind::Refused
                                     : TransportError::Kind::Io;
    throw TransportError(kind_of_failure, std::string(kind) + " connect to " + endpoint_text(settings) + ": " + std::strerror(error));
  }
  return fd;
}

Ipv4Addr socket_local_address(int fd) {
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0)
    throw TransportError(TransportError::Kind::Io, std::string("getsockname: ") + std::strerror(errno));
  return Ipv4Addr{ntohl(sa.sin_addr.s_addr)};
}

}  // namespace tsp::tspc
