#include "tools/tunnel/tunnel_socket.hpp"

#include <cerrno>

namespace tsp::tunnel {

// ICMP errors surface on a connected socket as ECONNREFUSED / EHOSTUNREACH / ENETUNREACH on the
// next call; a full send buffer or a local filter as ENOBUFS / EAGAIN / EPERM; an oversize
// datagram as EMSGSIZE. The packet is lost, the socket stays usable.
bool is_transient_socket_error(int error) {
  return error == ECONNREFUSED || error == EHOSTUNREACH || error == ENETUNREACH || error == EHOSTDOWN ||
         error == ENOBUFS || error == EAGAIN || error == EWOULDBLOCK || error == EMSGSIZE || error == EPERM;
}

}  // namespace tsp::tunnel
