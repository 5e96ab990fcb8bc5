#include <catch2/catch.hpp>

#include "control/rudp.hpp"

using namespace tsp;

TEST_CASE("RUDP header keeps the client's bytes for the echo") {
  const std::string dgram("\xF0\x00\x00\xF0\x00\x00\x01\x2C" "VERSION=2.0.2\r\n", 23);
  auto d = parse_rudp(dgram);
  REQUIRE(d);
  CHECK(d->header.sequence_word() == 0xF00000F0u);
  CHECK(d->header.timestamp() == 300u);
  CHECK(d->payload == "VERSION=2.0.2\r\n");
  CHECK(std::string(reinterpret_cast<const char*>(d->header.raw.data()), 8) == dgram.substr(0, 8));
}

TEST_CASE("RUDP header-only datagram has an empty payload") {
  auto d = parse_rudp(std::string("\xF0\x00\x00\xF3\x00\x00\x00\x01", 8));
  REQUIRE(d);
  CHECK(d->payload.empty());
}

TEST_CASE("short and non-control datagrams are not RUDP") {
  CHECK_FALSE(parse_rudp(std::string("\xF0\x00\x00", 3)));
  CHECK_FALSE(parse_rudp(""));
  CHECK_FALSE(parse_rudp(std::string("\x60\x00\x00\x00\x00\x08\x3a\x40", 8)));
}

TEST_CASE("the first nibble tells control from IPv6 data") {
  CHECK(classify_datagram(std::string("\xF0\x01", 2)) == DatagramKind::Control);
  CHECK(classify_datagram(std::string("\x60\x00", 2)) == DatagramKind::Ipv6Data);
  CHECK(classify_datagram(std::string("\x45\x00", 2)) == DatagramKind::Unknown);
  CHECK(classify_datagram("") == DatagramKind::Unknown);
}

TEST_CASE("make() writes big-endian words") {
  auto h = RudpHeader::make(0xF00000F1u, 0x01020304u);
  CHECK(h.raw == std::array<uint8_t, 8>{0xF0, 0x00, 0x00, 0xF1, 0x01, 0x02, 0x03, 0x04});
}
