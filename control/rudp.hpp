// The 8-byte reliable-UDP header that prefixes every TSP control datagram (tsp-protocol.md §1.2):
// a 32-bit word whose top nibble is 0xF (signalling) and low 28 bits a sequence number, then a
// 32-bit timestamp. The server never originates messages: it echoes the client's header verbatim.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace tsp {

inline constexpr size_t kRudpHeaderSize = 8;

struct RudpHeader {
  std::array<uint8_t, kRudpHeaderSize> raw{};  // kept verbatim for the echo

  // The whole first word, as compared by clients when matching a reply.
  uint32_t sequence_word() const {
    return (uint32_t{raw[0]} << 24) | (uint32_t{raw[1]} << 16) | (uint32_t{raw[2]} << 8) | raw[3];
  }
  uint32_t timestamp() const {
    return (uint32_t{raw[4]} << 24) | (uint32_t{raw[5]} << 16) | (uint32_t{raw[6]} << 8) | raw[7];
  }
  static RudpHeader make(uint32_t sequence_word, uint32_t timestamp);
};

enum class DatagramKind { Control, Ipv6Data, Unknown };

// Control messages start with the nibble 0xF, IPv6 packets with 6 (same UDP 5-tuple, §5.3).
inline DatagramKind classify_datagram(std::string_view d) {
  if (d.empty()) return DatagramKind::Unknown;
  const auto nibble = static_cast<uint8_t>(d[0]) >> 4;
  if (nibble == 0xF) return DatagramKind::Control;
  if (nibble == 0x6) return DatagramKind::Ipv6Data;
  return DatagramKind::Unknown;
}

// Splits a control datagram into header and payload; nullopt if shorter than the header or not
// a control message.
struct RudpDatagram {
  RudpHeader header;
  std::string_view payload;
};
std::optional<RudpDatagram> parse_rudp(std::string_view datagram);

}  // namespace tsp
