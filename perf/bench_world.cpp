#include "perf/bench_world.hpp"

#include <stdexcept>
#include <string>

#include "tests/unit/dp_test_support.hpp"

namespace tsp::perf {

namespace {

namespace addrs = dp::test::addrs;

constexpr uint64_t kNow = 1'700'000'000;  // the pipeline's clock (unix seconds), frozen

// Big-endian `value` into bytes [at, at + width) of `a`.
void put_be(Ipv6Addr& a, unsigned at, unsigned width, uint64_t value) {
  for (unsigned i = 0; i < width; ++i) a.bytes[at + width - 1 - i] = static_cast<uint8_t>(value >> (8 * i));
}

Ipv6Addr address_with(uint16_t first_word, unsigned at, unsigned width, uint64_t value) {
  Ipv6Addr a;
  a.bytes[0] = static_cast<uint8_t>(first_word >> 8);
  a.bytes[1] = static_cast<uint8_t>(first_word);
  put_be(a, at, width, value);
  return a;
}

TunnelEntry make_tunnel(uint32_t id, const dp::DataplaneConfig& cfg, std::mt19937_64& rng) {
  TunnelEntry e;
  e.id = id;
  e.mode = id % 2 == 0 ? TunnelMode::V6V4 : TunnelMode::V6UDPV4;
  e.mtu = cfg.tunnel_mtu;
  // Multiplying by an odd constant permutes 24-bit values: distinct addresses, scattered.
  e.client_v4 = Ipv4Addr{(10u << 24) | ((id * 0x9E3779u + 0x5A5A5u) & 0xFFFFFFu)};
  e.server_v4 = cfg.ipv4_address;
  if (e.mode == TunnelMode::V6UDPV4) {
    e.client_port = static_cast<uint16_t>(std::uniform_int_distribution<unsigned>(1024, 65535)(rng));
    e.server_port = cfg.udp_port;
  }
  Ipv6Addr pool = address_with(0x2001, 2, 2, 0x0db8);
  pool.bytes[4] = 0xf0;
  e.server_v6 = pool;
  e.server_v6.bytes[15] = 1;
  e.client_v6 = pool;
  put_be(e.client_v6, 12, 4, uint64_t{id} + 2);
  switch (std::uniform_int_distribution<unsigned>(0, 3)(rng)) {
    case 0:
      e.prefix = address_with(0x2a00, 4, 4, id);  // 2a00:0:iiii:iiii::/64
      e.prefix_len = 64;
      break;
    case 1:
      e.prefix = address_with(0x2a01, 2, 4, id);  // 2a01:iiii:iiii::/48
      e.prefix_len = 48;
      break;
    default: break;  // the /128 alone
  }
  return e;
}

}  // namespace

Ipv6Addr random_address_in(const Ipv6Addr& prefix, unsigned len, std::mt19937_64& rng) {
  Ipv6Addr a = prefix;
  for (unsigned i = 0; i < 16; ++i) {
    const unsigned fixed_bits = len >= 8 * (i + 1) ? 8 : (len > 8 * i ? len - 8 * i : 0);
    const auto host_mask = static_cast<uint8_t>(0xFFu >> fixed_bits);
    a.bytes[i] = static_cast<uint8_t>((a.bytes[i] & ~host_mask) | (rng() & host_mask));
  }
  return a;
}

BenchWorld::BenchWorld(uint32_t tunnel_count, rte_mempool* pool, uint64_t seed)
    : cfg(dp::test::test_config()),
      macs{addrs::v4_port_mac, addrs::v4_gateway_mac, addrs::v6_port_mac, addrs::v6_gateway_mac},
      table(tunnel_count + 1),  // one spare id: the update-latency probe publishes a tunnel there
      counters(tunnel_count + 1) {
  cfg.max_tunnels = tunnel_count + 1;
  std::mt19937_64 rng(seed);
  entries_.reserve(tunnel_count);
  for (uint32_t id = 0; id < tunnel_count; ++id) {
    entries_.push_back(make_tunnel(id, cfg, rng));
    const UpsertResult r = table.try_upsert(entries_.back(), 0);
    if (r != UpsertResult::Ok) {
      // (describe() would say more, but trips GCC 12's -Wrestrict false positive at -O3.)
      throw std::runtime_error("tunnel #" + std::to_string(id) + " refused: " + std::string(to_string(r)));
    }
  }
  neighbors.learn(dp::NeighborKey::ipv4(*cfg.ipv4_gateway), macs.client_gateway);
  neighbors.learn(dp::NeighborKey::ipv6(*cfg.ipv6_gateway), macs.uplink_gateway);

  ctx.cfg = &cfg;
  ctx.table = &table;
  ctx.neighbors = &neighbors;
  ctx.counters = &counters;
  ctx.pool = pool;
  ctx.side[static_cast<unsigned>(dp::Side::Ipv4)].mac = macs.client_port;
  ctx.side[static_cast<unsigned>(dp::Side::Ipv6)].mac = macs.uplink_port;
  ctx.now = kNow;
}

const TunnelEntry& BenchWorld::random_tunnel(TunnelMode mode, std::mt19937_64& rng) const {
  // Even ids are protocol 41, odd ids UDP: pick an index among those of the mode.
  const uint32_t first = mode == TunnelMode::V6V4 ? 0 : 1;
  const uint32_t of_mode = (tunnel_count() - first + 1) / 2;
  const uint32_t k = std::uniform_int_distribution<uint32_t>(0, of_mode - 1)(rng);
  return entries_[first + 2 * k];
}

}  // namespace tsp::perf
