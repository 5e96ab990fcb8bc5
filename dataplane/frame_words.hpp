// Header bytes as machine words, for the one-look recognisers (decap_fast.hpp, encap_fast.hpp):
// one load and a masked compare settle several fields at once.
#pragma once

#include <cstdint>
#include <cstring>

namespace tsp::dp::frame_words {

// An unaligned load of the bytes at `p` as they lie in memory.
template <typename T>
[[gnu::always_inline]] inline T load(const uint8_t* p) noexcept {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Bytes as a little-endian load sees them: byte k of the word is bits 8k..8k+7.
constexpr uint64_t bytes_le(uint8_t b0, uint8_t b1 = 0, uint8_t b2 = 0, uint8_t b3 = 0) noexcept {
  return uint64_t{b0} | uint64_t{b1} << 8 | uint64_t{b2} << 16 | uint64_t{b3} << 24;
}
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the masks above assume a little-endian machine");

// A 64-bit word whose first n (0..64) bits are set.
constexpr uint64_t leading_ones(unsigned n) noexcept { return n == 0 ? 0 : ~uint64_t{0} << (64 - n); }

// An IPv6 address's link-local (fe80::/10) and multicast (ff00::/8) tests on its first word.
constexpr uint64_t kLinkLocalMask = bytes_le(0xFF, 0xC0), kLinkLocal = bytes_le(0xFE, 0x80);
constexpr bool is_link_local(uint64_t first_word) noexcept { return (first_word & kLinkLocalMask) == kLinkLocal; }
constexpr bool is_multicast(uint64_t first_word) noexcept { return static_cast<uint8_t>(first_word) == 0xFF; }

}  // namespace tsp::dp::frame_words
