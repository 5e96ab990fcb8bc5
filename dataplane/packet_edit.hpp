// Moving where a packet's headers start inside its (single-segment) mbuf.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

namespace tsp::dp {

// The data that starts `from` bytes into the frame will start `to` bytes into it: the front
// grows into the headroom or shrinks, the bytes after `from` stay where they are. False (and
// nothing changed) when the headroom is too small.
inline bool move_front(rte_mbuf* m, uint32_t from, uint32_t to) noexcept {
  if (to > from) return rte_pktmbuf_prepend(m, static_cast<uint16_t>(to - from)) != nullptr;
  if (to < from) return rte_pktmbuf_adj(m, static_cast<uint16_t>(from - to)) != nullptr;
  return true;
}

// Drops everything past the first `len` bytes of the frame (Ethernet padding, trailing junk).
inline void keep_first(rte_mbuf* m, uint32_t len) noexcept {
  if (rte_pktmbuf_pkt_len(m) > len) rte_pktmbuf_trim(m, static_cast<uint16_t>(rte_pktmbuf_pkt_len(m) - len));
}

}  // namespace tsp::dp
