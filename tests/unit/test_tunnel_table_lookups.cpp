// Lookups (single and bulk) against a plain model of the table while entries come and go.
// The table is small, so its buckets hold chains of several nodes: every way a node leaves a
// chain (head, middle, tail, replaced in place) is exercised, and with it the chain summaries
// that let a lookup skip a bucket without reading its nodes.
#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <random>
#include <vector>

#include "shared/net_types.hpp"
#include "shared/rcu.hpp"
#include "shared/tunnel_entry.hpp"
#include "shared/tunnel_table.hpp"

using namespace tsp;

namespace {

constexpr uint32_t kCapacity = 24;  // 32 buckets per index for up to 24 entries: crowded chains
constexpr uint32_t kKeySpace = 40;  // keys are drawn from this many, so they collide and repeat

Ipv6Addr address(uint16_t first, uint32_t n, uint8_t last) {
  Ipv6Addr a;
  a.bytes[0] = static_cast<uint8_t>(first >> 8);
  a.bytes[1] = static_cast<uint8_t>(first);
  a.bytes[4] = static_cast<uint8_t>(n >> 8);
  a.bytes[5] = static_cast<uint8_t>(n);
  a.bytes[15] = last;
  return a;
}

// A random entry for `id` whose keys come from a small space (so other ids may hold them).
TunnelEntry random_entry(uint32_t id, std::mt19937& rng) {
  std::uniform_int_distribution<uint32_t> key(0, kKeySpace - 1);
  TunnelEntry e;
  e.id = id;
  e.mode = rng() % 2 ? TunnelMode::V6V4 : TunnelMode::V6UDPV4;
  e.client_v4 = Ipv4Addr{0x0A000000u | key(rng)};
  if (e.mode == TunnelMode::V6UDPV4) e.client_port = static_cast<uint16_t>(1024 + key(rng) % 4);
  e.server_v4 = Ipv4Addr{0xC6336401u};
  e.client_v6 = address(0x2001, key(rng), 2);
  e.server_v6 = address(0x2001, 0xFFFF, 1);
  switch (rng() % 3) {
    case 0:
      e.prefix = address(0x2a00, key(rng), 0);
      e.prefix_len = 64;
      break;
    case 1:
      e.prefix = address(0x2a01, 0, 0);
      e.prefix.bytes[2] = static_cast<uint8_t>(key(rng));
      e.prefix_len = 48;
      break;
    default: break;
  }
  return e;
}

// What the table should answer, computed by scanning the live entries.
struct Model {
  std::map<uint32_t, TunnelEntry> live;

  std::optional<uint32_t> decap(TunnelMode mode, Ipv4Addr src, uint16_t port) const {
    for (const auto& [id, e] : live) {
      if (e.mode == mode && e.client_v4 == src && (mode == TunnelMode::V6V4 || e.client_port == port)) return id;
    }
    return std::nullopt;
  }
  std::optional<uint32_t> encap(const Ipv6Addr& dst) const {
    for (const auto& [id, e] : live) {
      if (e.client_v6 == dst) return id;
    }
    std::optional<uint32_t> best;
    unsigned best_len = 0;
    for (const auto& [id, e] : live) {
      if (e.has_prefix() && e.prefix_len > best_len && dst.masked(e.prefix_len) == e.prefix) {
        best = id;
        best_len = e.prefix_len;
      }
    }
    return best;
  }
  bool fits(const TunnelEntry& n) const {
    for (const auto& [id, e] : live) {
      if (id == n.id) continue;
      if (e.mode == n.mode && e.client_v4 == n.client_v4 &&
          (n.mode == TunnelMode::V6V4 || e.client_port == n.client_port)) {
        return false;
      }
      if (e.client_v6 == n.client_v6) return false;
      if (n.has_prefix() && e.has_prefix() && e.prefix_len == n.prefix_len && e.prefix == n.prefix) return false;
    }
    return true;
  }
};

std::optional<uint32_t> id_of(const TunnelEntry* e) { return e ? std::optional<uint32_t>(e->id) : std::nullopt; }

// Every key of the key space, present or not, single and bulk, against the model.
void check_all_lookups(const TunnelTable& table, const Model& model) {
  std::vector<TunnelTable::DecapKey> decap_keys;
  std::vector<Ipv4Addr> proto41_keys;
  std::vector<Ipv6Addr> encap_keys;
  for (uint32_t k = 0; k < kKeySpace; ++k) {
    const Ipv4Addr src{0x0A000000u | k};
    proto41_keys.push_back(src);
    decap_keys.push_back({TunnelMode::V6V4, src, 0});
    for (uint16_t p = 1024; p < 1028; ++p) decap_keys.push_back({TunnelMode::V6UDPV4, src, p});
    encap_keys.push_back(address(0x2001, k, 2));
    encap_keys.push_back(address(0x2001, k, 3));  // never a client address
    encap_keys.push_back(address(0x2a00, k, 0x42));
    Ipv6Addr in48 = address(0x2a01, 7, 9);
    in48.bytes[2] = static_cast<uint8_t>(k);
    encap_keys.push_back(in48);
  }

  std::vector<const TunnelEntry*> out(decap_keys.size());
  table.find_decap_bulk(decap_keys.data(), decap_keys.size(), out.data());
  for (size_t i = 0; i < decap_keys.size(); ++i) {
    const auto& k = decap_keys[i];
    const auto expected = model.decap(k.mode, k.outer_src, k.src_port);
    const TunnelEntry* single = k.mode == TunnelMode::V6V4 ? table.find_decap_proto41(k.outer_src)
                                                           : table.find_decap_udp(k.outer_src, k.src_port);
    INFO("decap key " << k.outer_src.to_string() << " port " << k.src_port);
    REQUIRE(id_of(single) == expected);
    REQUIRE(id_of(out[i]) == expected);
  }
  out.assign(proto41_keys.size(), nullptr);
  table.find_decap_proto41_bulk(proto41_keys.data(), proto41_keys.size(), out.data());
  for (size_t i = 0; i < proto41_keys.size(); ++i) {
    REQUIRE(id_of(out[i]) == model.decap(TunnelMode::V6V4, proto41_keys[i], 0));
  }
  out.assign(encap_keys.size(), nullptr);
  table.find_encap_bulk(encap_keys.data(), encap_keys.size(), out.data());
  for (size_t i = 0; i < encap_keys.size(); ++i) {
    INFO("encap key " << encap_keys[i].to_string());
    const auto expected = model.encap(encap_keys[i]);
    REQUIRE(id_of(table.find_encap(encap_keys[i])) == expected);
    REQUIRE(id_of(out[i]) == expected);
    if (expected) REQUIRE(table.may_find_encap(encap_keys[i]));  // the filter never hides an entry
  }
}

}  // namespace

TEST_CASE("single and bulk lookups agree with a model through inserts, replacements and removals",
          "[tunnel_table]") {
  RcuReaderThread reader;  // lookups run as a registered reader, as the workers do
  TunnelTable table(kCapacity);
  Model model;
  std::mt19937 rng(20261123);
  unsigned inserted = 0, replaced = 0, removed = 0, refused = 0;
  for (int step = 0; step < 3000; ++step) {
    const uint32_t id = rng() % kCapacity;
    if (rng() % 4 == 0) {
      const bool was_live = model.live.erase(id) > 0;
      REQUIRE(table.remove(id) == was_live);
      removed += was_live;
    } else {
      const TunnelEntry e = random_entry(id, rng);
      const bool fits = model.fits(e);
      REQUIRE((table.try_upsert(e) == UpsertResult::Ok) == fits);
      if (fits) {
        (model.live.count(id) ? replaced : inserted) += 1;
        model.live[id] = e;
      } else {
        ++refused;
      }
    }
    REQUIRE(table.size() == model.live.size());
    check_all_lookups(table, model);
    rcu_quiescent();
  }
  // The walk really went through every kind of change.
  CHECK(inserted > 100);
  CHECK(replaced > 100);
  CHECK(removed > 100);
  CHECK(refused > 100);
}
