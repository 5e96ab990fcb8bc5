#include "tools/tunnel/keepalive.hpp"

#include <algorithm>
#include <cstring>

namespace tsp::tunnel {
namespace {

constexpr uint8_t kEchoRequest = 128;
constexpr uint8_t kEchoReply = 129;
constexpr uint8_t kHopLimit = 64;
constexpr size_t kIcmpHeaderSize = 8;
constexpr size_t kTimevalSize = 16;  // struct timeval on 64-bit Linux, what gogoc sends

void put_be16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

void put_le64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

}  // namespace

KeepalivePinger::KeepalivePinger(const Ipv6Addr& client, const Ipv6Addr& server, uint16_t identifier)
    : client_(client), server_(server), identifier_(identifier) {}

std::vector<uint8_t> KeepalivePinger::next_request(std::chrono::system_clock::time_point now) {
  constexpr size_t icmp_size = kIcmpHeaderSize + kTimevalSize;
  std::vector<uint8_t> packet(kIpv6HeaderSize + icmp_size, 0);
  uint8_t* ip = packet.data();
  ip[0] = 0x60;
  put_be16(ip + 4, static_cast<uint16_t>(icmp_size));
  ip[6] = kNextHeaderIcmpv6;
  ip[7] = kHopLimit;
  std::copy(client_.bytes.begin(), client_.bytes.end(), ip + 8);
  std::copy(server_.bytes.begin(), server_.bytes.end(), ip + 24);

  uint8_t* icmp = ip + kIpv6HeaderSize;
  icmp[0] = kEchoRequest;
  put_be16(icmp + 4, identifier_);
  std::memcpy(icmp + 6, &sequence_, sizeof sequence_);  // host order, as gogoc writes it
  ++sequence_;
  const auto since_epoch = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  put_le64(icmp + 8, static_cast<uint64_t>(since_epoch / 1000000));
  put_le64(icmp + 16, static_cast<uint64_t>(since_epoch % 1000000));
  put_be16(icmp + 2, icmpv6_checksum(client_, server_, Bytes(icmp, icmp_size)));
  return packet;
}

bool KeepalivePinger::is_reply(Bytes packet) const {
  if (!is_complete_ipv6(packet) || packet.size() < kIpv6HeaderSize + kIcmpHeaderSize) return false;
  if (packet[6] != kNextHeaderIcmpv6 || packet[kIpv6HeaderSize] != kEchoReply) return false;
  const auto identifier = static_cast<uint16_t>(packet[kIpv6HeaderSize + 4] << 8 | packet[kIpv6HeaderSize + 5]);
  return identifier == identifier_ && ipv6_source(packet) == server_ && ipv6_destination(packet) == client_;
}

}  // namespace tsp::tunnel
