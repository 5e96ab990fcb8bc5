#include "perf/bench_packets.hpp"

#include <cstring>
#include <random>
#include <stdexcept>
#include <string>

#include "tests/unit/dp_test_support.hpp"

namespace tsp::perf {

namespace {

namespace test = dp::test;

constexpr uint8_t kHopLimit = 64;

// Internet hosts: anywhere in 2001:db8::/33, so each packet's is in a /48 of its own, as on
// the Internet (one shared /48 would make every run a draw: its site-filter bit collides with
// a tunnel's, under the table's random seed, for all packets or for none). Off the uplink's
// /64 (2001:db8:ffff::/64: the next hop is the gateway) and outside every tunnel (clients in
// 2001:db8:f000::/48, prefixes in 2a00::/16 and 2a01::/16).
Ipv6Addr internet_host(std::mt19937_64& rng) { return random_address_in(test::v6("2001:db8::"), 33, rng); }

// One of the tunnel's own addresses: its /128, or when it has a prefix, as often an address in it.
Ipv6Addr tunnel_address(const TunnelEntry& t, std::mt19937_64& rng) {
  if (!t.has_prefix() || rng() % 2 == 0) return t.client_v6;
  return random_address_in(t.prefix, t.prefix_len, rng);
}

test::Bytes frame_for(Scenario s, const TunnelPicker& picker, uint32_t payload, std::mt19937_64& rng) {
  const TunnelEntry& t = picker.pick(rng);
  if (is_decap(s)) {
    const test::Bytes inner = test::udp6_packet(tunnel_address(t, rng), internet_host(rng), kHopLimit, payload);
    return test::client_frame(t, inner, static_cast<uint16_t>(rng()));
  }
  return test::uplink_in(test::udp6_packet(internet_host(rng), tunnel_address(t, rng), kHopLimit, payload));
}

}  // namespace

TemplateRing::TemplateRing(uint32_t count, uint32_t frame_len)
    : count_(count),
      frame_len_(frame_len),
      lines_per_slot_((frame_len + sizeof(Line) - 1) / sizeof(Line)),
      slots_(static_cast<size_t>(count) * lines_per_slot_) {}

void TemplateRing::set(uint32_t index, const std::vector<uint8_t>& frame) {
  if (index >= count_) throw std::invalid_argument("template index out of range");
  if (frame.size() != frame_len_) {
    throw std::invalid_argument("template of " + std::to_string(frame.size()) + " bytes in a ring of " +
                                std::to_string(frame_len_));
  }
  std::memcpy(slots_[static_cast<size_t>(index) * lines_per_slot_].bytes, frame.data(), frame.size());
}

TemplateRing build_templates(Scenario s, const BenchWorld& world, Distribution d, double zipf_s, uint32_t count,
                             uint32_t payload, uint64_t seed) {
  const TunnelPicker picker(world, tunnel_mode(s), d, zipf_s, seed ^ 0x5eed);
  std::mt19937_64 rng(seed);
  test::Bytes first = frame_for(s, picker, payload, rng);
  TemplateRing ring(count, static_cast<uint32_t>(first.size()));
  ring.set(0, first);
  for (uint32_t i = 1; i < count; ++i) ring.set(i, frame_for(s, picker, payload, rng));
  return ring;
}

}  // namespace tsp::perf
