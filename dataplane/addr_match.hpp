// Address tests on raw header bytes, for the fast path: no parsing, no allocation.
#pragma once

#include <cstdint>
#include <cstring>

#include "shared/net_types.hpp"

namespace tsp::dp {

inline Ipv6Addr to_ipv6(const uint8_t (&bytes)[16]) noexcept {
  Ipv6Addr a;
  std::memcpy(a.bytes.data(), bytes, 16);
  return a;
}

inline bool ipv6_equal(const uint8_t (&bytes)[16], const Ipv6Addr& addr) noexcept {
  return std::memcmp(bytes, addr.bytes.data(), 16) == 0;
}

// True if the first `len` bits (at most 128) of `a` and `prefix` agree.
inline bool ipv6_in_prefix(const uint8_t* a, const uint8_t* prefix, unsigned len) noexcept {
  if (len > 128) len = 128;
  const unsigned whole = len / 8;
  if (std::memcmp(a, prefix, whole) != 0) return false;
  const unsigned rest = len % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<uint8_t>(0xFF << (8 - rest));
  return ((a[whole] ^ prefix[whole]) & mask) == 0;
}

inline bool ipv6_is_link_local(const uint8_t* a) noexcept { return a[0] == 0xFE && (a[1] & 0xC0) == 0x80; }
inline bool ipv6_is_multicast(const uint8_t* a) noexcept { return a[0] == 0xFF; }
inline bool ipv6_is_unspecified(const uint8_t* a) noexcept {
  static constexpr uint8_t kZero[16] = {};
  return std::memcmp(a, kZero, 16) == 0;
}

inline bool ipv4_in_subnet(Ipv4Addr a, Ipv4Addr net, unsigned len) noexcept {
  if (len == 0) return true;
  if (len >= 32) return a == net;
  return ((a.value ^ net.value) >> (32 - len)) == 0;
}

}  // namespace tsp::dp
