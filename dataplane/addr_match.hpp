// Address tests on raw header bytes, for the fast path: no parsing, no allocation.
#pragma once

#include <cstdint>
#include <cstring>

#include "dataplane/byte_order.hpp"
#include "shared/net_types.hpp"

namespace tsp::dp {

inline Ipv6Addr to_ipv6(const uint8_t (&bytes)[16]) noexcept {
  Ipv6Addr a;
  std::memcpy(a.bytes.data(), bytes, 16);
  return a;
}

// Addresses as two big-endian words: two compares instead of a memcmp call.
inline uint64_t load_be64(const uint8_t* p) noexcept {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return be64(v);
}

inline bool ipv6_equal(const uint8_t* a, const uint8_t* b) noexcept {
  uint64_t a0, a1, b0, b1;
  std::memcpy(&a0, a, 8);
  std::memcpy(&a1, a + 8, 8);
  std::memcpy(&b0, b, 8);
  std::memcpy(&b1, b + 8, 8);
  return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

inline bool ipv6_equal(const uint8_t (&bytes)[16], const Ipv6Addr& addr) noexcept {
  return ipv6_equal(bytes, addr.bytes.data());
}

// True if the first `len` bits (at most 128) of `a` and `prefix` agree.
inline bool ipv6_in_prefix(const uint8_t* a, const uint8_t* prefix, unsigned len) noexcept {
  if (len == 0) return true;
  const uint64_t hi_diff = load_be64(a) ^ load_be64(prefix);
  if (len <= 64) return (hi_diff & (~uint64_t{0} << (64 - len))) == 0;
  if (hi_diff != 0) return false;
  if (len > 128) len = 128;
  return ((load_be64(a + 8) ^ load_be64(prefix + 8)) & (~uint64_t{0} << (128 - len))) == 0;
}

inline bool ipv6_is_link_local(const uint8_t* a) noexcept { return a[0] == 0xFE && (a[1] & 0xC0) == 0x80; }
inline bool ipv6_is_multicast(const uint8_t* a) noexcept { return a[0] == 0xFF; }
inline bool ipv6_is_unspecified(const uint8_t* a) noexcept {
  static constexpr uint8_t kZero[16] = {};
  return ipv6_equal(a, kZero);
}

// The mask of an IPv4 prefix of `len` bits, host order: none for /0, every bit from /32 on.
constexpr uint32_t ipv4_prefix_mask(unsigned len) noexcept {
  return len == 0 ? 0 : len >= 32 ? ~uint32_t{0} : ~uint32_t{0} << (32 - len);
}

inline bool ipv4_in_subnet(Ipv4Addr a, Ipv4Addr net, unsigned len) noexcept {
  return ((a.value ^ net.value) & ipv4_prefix_mask(len)) == 0;
}

}  // namespace tsp::dp
