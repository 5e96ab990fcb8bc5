#include "tools/tunnel/tunnel_socket.hpp"

#include <linux/sock_diag.h>
#include <sys/socket.h>

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

void enlarge_receive_buffer(int fd) {
  // A failure only costs performance: the relay works with the default buffer.
  const int buffer_bytes = 1 << 20;
  (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer_bytes, sizeof buffer_bytes);
}

uint64_t socket_drops(int fd) {
  uint32_t meminfo[SK_MEMINFO_VARS] = {};
  socklen_t length = sizeof meminfo;
  if (::getsockopt(fd, SOL_SOCKET, SO_MEMINFO, meminfo, &length) != 0 || length <= SK_MEMINFO_DROPS * sizeof(uint32_t))
    return 0;
  return meminfo[SK_MEMINFO_DROPS];
}

}  // namespace tsp::tunnel
