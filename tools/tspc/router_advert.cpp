#include "tools/tspc/router_advert.hpp"

#include <algorithm>

#include "tools/tunnel/ipv6_packet.hpp"

namespace tsp::tspc {
namespace {

constexpr uint8_t kOptionPrefixInformation = 3;
constexpr uint8_t kOptionMtu = 5;
constexpr uint8_t kFlagOnLink = 0x80;
constexpr uint8_t kFlagAutonomous = 0x40;

void put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

void put32(std::vector<uint8_t>& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

}  // namespace

std::vector<uint8_t> build_router_advertisement(const RouterAdvertisement& ra, const Ipv6Addr& source,
                                                const Ipv6Addr& destination) {
  std::vector<uint8_t> m;
  m.reserve(56);
  m.push_back(kIcmpRouterAdvertisement);
  m.push_back(0);  // code
  put16(m, 0);     // checksum, filled below
  m.push_back(ra.cur_hop_limit);
  m.push_back(0);  // no managed/other config: SLAAC only
  put16(m, ra.router_lifetime_s);
  put32(m, 0);  // reachable time: unspecified
  put32(m, 0);  // retransmission timer: unspecified

  m.push_back(kOptionPrefixInformation);
  m.push_back(4);  // 4 x 8 bytes
  m.push_back(ra.prefix.len);
  m.push_back(kFlagOnLink | kFlagAutonomous);
  put32(m, ra.valid_lifetime_s);
  put32(m, ra.preferred_lifetime_s);
  put32(m, 0);  // reserved
  const Ipv6Addr prefix = ra.prefix.addr.masked(ra.prefix.len);
  m.insert(m.end(), prefix.bytes.begin(), prefix.bytes.end());

  m.push_back(kOptionMtu);
  m.push_back(1);
  put16(m, 0);
  put32(m, ra.mtu);

  const uint16_t checksum = tunnel::icmpv6_checksum(source, destination, tunnel::Bytes(m.data(), m.size()));
  m[2] = static_cast<uint8_t>(checksum >> 8);
  m[3] = static_cast<uint8_t>(checksum);
  return m;
}

std::optional<Ipv6Prefix> advertised_prefix(const Ipv6Prefix& delegated) {
  if (delegated.len > 64) return std::nullopt;
  return Ipv6Prefix{delegated.addr.masked(delegated.len), 64};
}

bool is_router_solicitation(std::span<const uint8_t> icmp) {
  return icmp.size() >= 8 && icmp[0] == kIcmpRouterSolicitation && icmp[1] == 0;
}

}  // namespace tsp::tspc
