// The client end of a protocol-41 (IPv6-in-IPv4, RFC 4213) tunnel in user space, for kernels
// without `sit`: a raw IPPROTO_IPV6 socket bound to the client's IPv4 address and connected to
// the server's. The kernel adds the IPv4 header on send; on receive it hands us the whole IPv4
// datagram, whose source we check again ourselves.
#pragma once

#include "shared/net_types.hpp"
#include "tools/tunnel/tunnel_socket.hpp"
#include "tools/tunnel/unique_fd.hpp"

namespace tsp::tunnel {

inline constexpr uint8_t kProtocolIpv6InIpv4 = 41;

struct Proto41Parse {
  Inbound kind = Inbound::malformed;
  Bytes inner;  // the IPv6 packet when kind == Inbound::packet
};
// Reads an IPv4 datagram as a raw socket returns it: a readable IPv4 header carrying protocol
// 41 from `server`, and a complete IPv6 packet inside (cut to the IPv4 total length).
Proto41Parse parse_proto41_datagram(Bytes ipv4_datagram, Ipv4Addr server);

class Proto41Relay final : public TunnelSocket {
 public:
  // `local` 0.0.0.0 leaves the source address to the kernel. Needs CAP_NET_RAW.
  // Throws std::system_error naming the step that failed.
  Proto41Relay(Ipv4Addr local, Ipv4Addr server);

  int fd() const override { return fd_.get(); }
  bool send_packet(Bytes ipv6_packet) override;
  InboundDatagram receive(std::span<uint8_t> buffer) override;

 private:
  UniqueFd fd_;
  Ipv4Addr server_;
};

}  // namespace tsp::tunnel
