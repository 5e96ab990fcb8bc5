#include "control/rudp.hpp"

#include <cstring>

namespace tsp {

RudpHeader RudpHeader::make(uint32_t sequence_word, uint32_t timestamp) {
  RudpHeader h;
  for (int i = 0; i < 4; ++i) {
    h.raw[i] = static_cast<uint8_t>(sequence_word >> (24 - 8 * i));
    h.raw[4 + i] = static_cast<uint8_t>(timestamp >> (24 - 8 * i));
  }
  return h;
}

std::optional<RudpDatagram> parse_rudp(std::string_view datagram) {
  if (datagram.size() < kRudpHeaderSize || classify_datagram(datagram) != DatagramKind::Control)
    return std::nullopt;
  RudpDatagram d;
  std::memcpy(d.header.raw.data(), datagram.data(), kRudpHeaderSize);
  d.payload = datagram.substr(kRudpHeaderSize);
  return d;
}

}  // namespace tsp
