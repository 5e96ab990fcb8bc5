#include "tools/tunnel/ipv6_packet.hpp"

#include <algorithm>

namespace tsp::tunnel {
namespace {

Ipv6Addr address_at(Bytes packet, size_t offset) {
  Ipv6Addr a;
  std::copy_n(packet.begin() + static_cast<std::ptrdiff_t>(offset), 16, a.bytes.begin());
  return a;
}

bool is_link_local(const Ipv6Addr& a) { return a.bytes[0] == 0xFE && (a.bytes[1] & 0xC0) == 0x80; }
bool is_multicast(const Ipv6Addr& a) { return a.bytes[0] == 0xFF; }

uint32_t add_words(uint32_t sum, Bytes bytes) {
  for (size_t i = 0; i + 1 < bytes.size(); i += 2) sum += static_cast<uint32_t>(bytes[i] << 8 | bytes[i + 1]);
  if (bytes.size() % 2) sum += static_cast<uint32_t>(bytes.back() << 8);
  return sum;
}

}  // namespace

bool is_complete_ipv6(Bytes packet) {
  if (packet.size() < kIpv6HeaderSize || (packet[0] >> 4) != 6) return false;
  const size_t payload_length = static_cast<size_t>(packet[4] << 8 | packet[5]);
  return packet.size() >= kIpv6HeaderSize + payload_length;
}

Ipv6Addr ipv6_source(Bytes packet) { return address_at(packet, 8); }
Ipv6Addr ipv6_destination(Bytes packet) { return address_at(packet, 24); }

bool is_routable_through_broker(Bytes packet) {
  const Ipv6Addr src = ipv6_source(packet);
  const Ipv6Addr dst = ipv6_destination(packet);
  if (src.is_unspecified() || is_link_local(src) || is_multicast(src)) return false;
  return !is_link_local(dst) && !is_multicast(dst) && !dst.is_unspecified();
}

uint16_t icmpv6_checksum(const Ipv6Addr& source, const Ipv6Addr& destination, Bytes icmp) {
  uint32_t sum = 0;
  sum = add_words(sum, source.bytes);
  sum = add_words(sum, destination.bytes);
  const auto length = static_cast<uint32_t>(icmp.size());
  sum += length >> 16;
  sum += length & 0xFFFF;
  sum += kNextHeaderIcmpv6;
  sum = add_words(sum, icmp);
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

}  // namespace tsp::tunnel
