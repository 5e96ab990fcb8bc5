#include "tools/tunnel/tunnel_socket.hpp"

#include <cerrno>

namespace tsp::tunnel {

// An ICMP error the kernel received for a connected socket is reported once, on the next call:
// port unreachable as ECONNREFUSED, protocol unreachable (a server without protocol 41) as
// ENOPROTOOPT, the other unreachables and time exceeded as EHOSTUNREACH / ENETUNREACH /
// EHOSTDOWN / ENONET / EOPNOTSUPP, parameter problem as EPROTO, fragmentation needed as
// EMSGSIZE. A full send buffer or a local filter gives ENOBUFS / EAGAIN / EPERM. The packet is
// lost; the socket stays usable.
bool is_transient_socket_error(int error) {
  switch (error) {
    case ECONNREFUSED:
    case ENOPROTOOPT:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EHOSTDOWN:
    case ENONET:
    case EOPNOTSUPP:
    case EPROTO:
    case EMSGSIZE:
    case ENOBUFS:
    case EAGAIN:
    case EPERM:
      return true;
    default:
      return false;
  }
}

}  // namespace tsp::tunnel
