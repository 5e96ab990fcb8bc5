// The client's keepalive as gogoc sends it (tsp-protocol.md §5.2): an ICMPv6 echo request from
// the client's tunnel address to the keepalive address of the offer, hop limit 64, identifier
// = the client's PID, sequence 0, 1, 2... in host byte order, a 16-byte struct timeval as
// payload. The broker answers it on its fast path; the answer tells the client the tunnel works
// and tells the broker the client is alive.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "shared/net_types.hpp"
#include "tools/tunnel/ipv6_packet.hpp"

namespace tsp::tunnel {

class KeepalivePinger {
 public:
  KeepalivePinger(const Ipv6Addr& client, const Ipv6Addr& server, uint16_t identifier);

  // The next echo request, stamped with `now`.
  std::vector<uint8_t> next_request(std::chrono::system_clock::time_point now);
  // An echo reply from the server to the client that carries our identifier.
  bool is_reply(Bytes packet) const;

 private:
  Ipv6Addr client_, server_;
  uint16_t identifier_;
  uint16_t sequence_ = 0;
};

}  // namespace tsp::tunnel
