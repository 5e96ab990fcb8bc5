// A 64-bit finaliser with full avalanche (the constants of SplitMix64's output function): keys
// differing in one bit land in unrelated buckets, where identity hashing of addresses would
// pile neighbours into a few chains. In a header: the fast path's lookups inline it.
#pragma once

#include <cstdint>

namespace tsp {

[[gnu::always_inline]] inline uint64_t mix64(uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace tsp
