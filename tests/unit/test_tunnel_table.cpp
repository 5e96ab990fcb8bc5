#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "shared/net_types.hpp"
#include "shared/rcu.hpp"
#include "shared/tunnel_entry.hpp"
#include "shared/tunnel_table.hpp"

using namespace tsp;

namespace {

Ipv4Addr v4(const char* text) { return Ipv4Addr::parse(text).value(); }
Ipv6Addr v6(const char* text) { return Ipv6Addr::parse(text).value(); }

Ipv6Addr groups(std::array<uint32_t, 8> g) {
  Ipv6Addr a;
  for (size_t i = 0; i < 8; ++i) {
    a.bytes[2 * i] = static_cast<uint8_t>(g[i] >> 8);
    a.bytes[2 * i + 1] = static_cast<uint8_t>(g[i]);
  }
  return a;
}

// Every field is derived from (id, gen), so an entry can be checked on its own: a torn, half
// written or poisoned entry does not equal make_entry(e.id, e.server_v4.value).
// Generations 2k and 2k+1 share their keys (only the payload differs); the keys embed the id,
// so different ids never conflict. Needs id < 4096.
TunnelEntry make_entry(uint32_t id, uint32_t gen) {
  const uint32_t kg = gen / 2;  // key generation
  TunnelEntry e;
  e.id = id;
  e.mode = (id + kg) % 2 == 0 ? TunnelMode::V6V4 : TunnelMode::V6UDPV4;
  e.client_v4 = Ipv4Addr{0x0A000000u | (id << 12) | (kg & 0xFFFu)};
  e.client_port = e.mode == TunnelMode::V6UDPV4 ? static_cast<uint16_t>(1024 + kg % 50000) : 0;
  e.server_v4 = Ipv4Addr{gen};  // where the self-check finds gen
  e.server_port = 3653;
  e.mtu = static_cast<uint16_t>(1280 + (id * 7 + gen) % 200);
  e.client_v6 = groups({0x2001, 0x0db8, id, kg >> 16, kg & 0xFFFF, 0, 0, 2});
  e.server_v6 = groups({0x2001, 0x0db8, id, gen >> 16, gen & 0xFFFF, 0, 0, 1});
  static constexpr uint8_t kPrefixLens[8] = {0, 48, 64, 56, 0, 52, 128, 100};
  e.prefix_len = kPrefixLens[(id + kg) % 8];
  if (e.has_prefix()) {
    e.prefix = groups({0x2a00, id, kg & 0xFFFF, 0xabcd, 0x1234, 0x5678, 0x9abc, 0xdef0}).masked(e.prefix_len);
  }
  return e;
}

bool consistent(const TunnelEntry& e, uint32_t capacity) {
  return e.id < capacity && e == make_entry(e.id, e.server_v4.value);
}

const TunnelEntry* find_decap(const TunnelTable& t, const TunnelEntry& e) {
  return e.mode == TunnelMode::V6V4 ? t.find_decap_proto41(e.client_v4)
                                    : t.find_decap_udp(e.client_v4, e.client_port);
}

// An address inside the entry's delegated prefix, other than the prefix address itself where
// the length allows.
Ipv6Addr inside_prefix(const TunnelEntry& e) {
  Ipv6Addr a = e.prefix;
  if (e.prefix_len <= 120) a.bytes[15] = 0x42;
  return a;
}

TunnelEntry proto41(uint32_t id, const char* client_v4, const char* client_v6) {
  TunnelEntry e;
  e.id = id;
  e.mode = TunnelMode::V6V4;
  e.client_v4 = v4(client_v4);
  e.server_v4 = v4("198.51.100.1");
  e.client_v6 = v6(client_v6);
  e.server_v6 = v6("2001:db8:ffff::1");
  return e;
}

TunnelEntry udp(uint32_t id, const char* client_v4, uint16_t port, const char* client_v6) {
  TunnelEntry e = proto41(id, client_v4, client_v6);
  e.mode = TunnelMode::V6UDPV4;
  e.client_port = port;
  e.server_port = 3653;
  return e;
}

TunnelEntry with_prefix(TunnelEntry e, const char* prefix) {
  const Ipv6Prefix p = Ipv6Prefix::parse(prefix).value();
  e.prefix = p.addr;
  e.prefix_len = p.len;
  return e;
}

std::optional<uint32_t> encap_id(const TunnelTable& t, const char* dst) {
  const TunnelEntry* e = t.find_encap(v6(dst));
  return e ? std::optional<uint32_t>(e->id) : std::nullopt;
}

}  // namespace

TEST_CASE("every id can be inserted, found by each key, replaced and removed", "[tunnel_table]") {
  constexpr uint32_t kCapacity = 300;  // not a power of two: buckets round up, ids do not
  TunnelTable table(kCapacity);
  REQUIRE(table.capacity() == kCapacity);

  auto check_findable = [&](const TunnelEntry& e) {
    INFO(describe(e));
    const TunnelEntry* by_id = table.find_by_id(e.id);
    REQUIRE(by_id);
    CHECK(*by_id == e);
    CHECK(find_decap(table, e) == by_id);
    // The same outer address under the other encapsulation is a different key.
    if (e.mode == TunnelMode::V6V4) {
      CHECK(table.find_decap_udp(e.client_v4, e.client_port) == nullptr);
    } else {
      CHECK(table.find_decap_proto41(e.client_v4) == nullptr);
      CHECK(table.find_decap_udp(e.client_v4, static_cast<uint16_t>(e.client_port + 1)) == nullptr);
    }
    CHECK(table.find_encap(e.client_v6) == by_id);
    if (e.has_prefix()) CHECK(table.find_encap(inside_prefix(e)) == by_id);
  };
  auto check_gone = [&](const TunnelEntry& e) {
    INFO(describe(e));
    CHECK(find_decap(table, e) == nullptr);
    CHECK(table.find_encap(e.client_v6) == nullptr);
    if (e.has_prefix()) CHECK(table.find_encap(inside_prefix(e)) == nullptr);
  };

  for (uint32_t id = 0; id < kCapacity; ++id) REQUIRE(table.try_upsert(make_entry(id, 0)) == UpsertResult::Ok);
  CHECK(table.size() == kCapacity);
  for (uint32_t id = 0; id < kCapacity; ++id) check_findable(make_entry(id, 0));

  // Same keys, new payload (generation 1 shares generation 0's keys).
  for (uint32_t id = 0; id < kCapacity; ++id) REQUIRE(table.upsert(make_entry(id, 1)));
  CHECK(table.size() == kCapacity);
  for (uint32_t id = 0; id < kCapacity; ++id) check_findable(make_entry(id, 1));

  // New keys: mode, outer address, client address and prefix all move; the old ones go away.
  for (uint32_t id = 0; id < kCapacity; ++id) REQUIRE(table.upsert(make_entry(id, 2)));
  CHECK(table.size() == kCapacity);
  for (uint32_t id = 0; id < kCapacity; ++id) {
    check_findable(make_entry(id, 2));
    check_gone(make_entry(id, 1));
  }

  for (uint32_t id = 0; id < kCapacity; ++id) REQUIRE(table.remove(id));
  CHECK(table.size() == 0);
  for (uint32_t id = 0; id < kCapacity; ++id) {
    CHECK(table.find_by_id(id) == nullptr);
    check_gone(make_entry(id, 2));
    CHECK_FALSE(table.remove(id));
  }
  table.wait_for_reclaim();
  CHECK(table.awaiting_reclaim() == 0);
}

TEST_CASE("keys held by another tunnel are refused and leave the table unchanged", "[tunnel_table]") {
  TunnelTable table(16);
  const TunnelEntry a = with_prefix(proto41(1, "192.0.2.1", "2001:db8::a"), "2001:db8:100::/48");
  REQUIRE(table.try_upsert(a) == UpsertResult::Ok);

  CHECK(table.try_upsert(proto41(2, "192.0.2.1", "2001:db8::b")) == UpsertResult::DecapKeyTaken);
  // The same outer address over UDP is another key; over UDP the port is part of the key.
  REQUIRE(table.try_upsert(udp(2, "192.0.2.1", 5000, "2001:db8::b")) == UpsertResult::Ok);
  CHECK(table.try_upsert(udp(3, "192.0.2.1", 5000, "2001:db8::c")) == UpsertResult::DecapKeyTaken);
  REQUIRE(table.try_upsert(udp(3, "192.0.2.1", 5001, "2001:db8::c")) == UpsertResult::Ok);

  CHECK(table.try_upsert(proto41(4, "192.0.2.4", "2001:db8::a")) == UpsertResult::ClientV6Taken);
  CHECK(table.try_upsert(with_prefix(proto41(4, "192.0.2.4", "2001:db8::d"), "2001:db8:100::/48")) ==
        UpsertResult::PrefixTaken);
  CHECK_FALSE(table.upsert(with_prefix(proto41(4, "192.0.2.4", "2001:db8::d"), "2001:db8:100::/48")));
  CHECK(table.size() == 3);
  CHECK_FALSE(table.get(4));

  // Nested prefixes of another length are separate keys (longest match picks between them).
  REQUIRE(table.try_upsert(with_prefix(proto41(4, "192.0.2.4", "2001:db8::d"), "2001:db8:100::/56")) ==
          UpsertResult::Ok);

  // An entry never conflicts with itself.
  CHECK(table.try_upsert(a) == UpsertResult::Ok);
  // A refused replacement keeps the current version in every index.
  TunnelEntry steal = a;
  steal.client_v6 = v6("2001:db8::b");
  steal.mtu = 1400;
  CHECK(table.try_upsert(steal) == UpsertResult::ClientV6Taken);
  CHECK(table.get(1) == a);
  CHECK(table.find_decap_proto41(a.client_v4)->mtu == a.mtu);
  CHECK(encap_id(table, "2001:db8::b") == 2u);
  CHECK(encap_id(table, "2001:db8::a") == 1u);

  // Once removed, its keys are free.
  REQUIRE(table.remove(2));
  CHECK(table.try_upsert(steal) == UpsertResult::Ok);
  CHECK(encap_id(table, "2001:db8::b") == 1u);
  CHECK(encap_id(table, "2001:db8::a") == std::nullopt);
  CHECK(table.size() == 3);
}

TEST_CASE("out-of-range ids and malformed entries are refused", "[tunnel_table]") {
  CHECK_THROWS_AS(TunnelTable(0), std::invalid_argument);
  CHECK_THROWS_AS(TunnelTable(TunnelTable::kMaxCapacity + 1), std::invalid_argument);

  TunnelTable table(8);
  const TunnelEntry good = with_prefix(udp(7, "192.0.2.7", 4000, "2001:db8::7"), "2001:db8:7::/48");
  CHECK(table.try_upsert(good) == UpsertResult::Ok);

  TunnelEntry e = good;
  e.id = 8;
  CHECK(table.try_upsert(e) == UpsertResult::IdOutOfRange);
  e.id = 0xFFFFFFFFu;
  CHECK(table.try_upsert(e) == UpsertResult::IdOutOfRange);

  auto refused = [&](auto&& mutate) {
    TunnelEntry bad = good;
    bad.id = 3;
    bad.client_v4 = v4("192.0.2.3");
    bad.client_v6 = v6("2001:db8::3");
    bad.prefix = v6("2001:db8:3::");
    mutate(bad);
    return table.try_upsert(bad) == UpsertResult::InvalidEntry;
  };
  CHECK(refused([](TunnelEntry& b) { b.mode = static_cast<TunnelMode>(0); }));
  CHECK(refused([](TunnelEntry& b) { b.mode = static_cast<TunnelMode>(3); }));
  CHECK(refused([](TunnelEntry& b) { b.mtu = 1279; }));
  CHECK(refused([](TunnelEntry& b) { b.prefix_len = 129; }));
  CHECK(refused([](TunnelEntry& b) { b.prefix = v6("2001:db8:3::1"); }));  // host bits
  CHECK(refused([](TunnelEntry& b) { b.prefix_len = 0; }));                 // address without a length
  CHECK(refused([](TunnelEntry& b) { b.client_v6 = Ipv6Addr{}; }));
  CHECK(table.size() == 1);
  CHECK_FALSE(table.get(3));

  CHECK_FALSE(table.remove(8));
  CHECK_FALSE(table.get(8));
  CHECK(table.find_by_id(8) == nullptr);
  CHECK(table.find_by_id(0xFFFFFFFFu) == nullptr);
  CHECK(to_string(UpsertResult::PrefixTaken) == "delegated prefix used by another tunnel");
  CHECK(to_string(UpsertResult::InvalidEntry) == "invalid tunnel entry");

  TunnelTable smallest(1);
  CHECK(smallest.upsert(proto41(0, "192.0.2.1", "2001:db8::1")));
  CHECK_FALSE(smallest.upsert(proto41(1, "192.0.2.2", "2001:db8::2")));
}

TEST_CASE("encap takes the client /128 first, then the longest delegated prefix", "[tunnel_table]") {
  TunnelTable table(32);
  REQUIRE(table.upsert(with_prefix(proto41(1, "192.0.2.1", "2001:db8:ffff::1"), "2001:db8:100::/48")));
  REQUIRE(table.upsert(with_prefix(proto41(2, "192.0.2.2", "2001:db8:ffff::2"), "2001:db8:100:5::/64")));
  REQUIRE(table.upsert(proto41(3, "192.0.2.3", "2001:db8:100:5::99")));  // inside tunnel 2's /64
  REQUIRE(table.upsert(with_prefix(proto41(4, "192.0.2.4", "2001:db8:ffff::4"), "2001:db8:100:5:8000::/65")));
  REQUIRE(table.upsert(with_prefix(proto41(5, "192.0.2.5", "2001:db8:ffff::5"), "8000::/1")));
  REQUIRE(table.upsert(with_prefix(proto41(6, "192.0.2.6", "2001:db8:ffff::6"), "2001:db8:100:5::abcd/128")));
  REQUIRE(table.upsert(with_prefix(proto41(7, "192.0.2.7", "2001:db8:ffff::7"), "2001:db8:100:5::abce/127")));
  REQUIRE(table.upsert(with_prefix(proto41(8, "192.0.2.8", "2001:db8:ffff::8"), "2001:db8:200::/57")));

  CHECK(encap_id(table, "2001:db8:100:7::1") == 1u);
  CHECK(encap_id(table, "2001:db8:100:ffff:ffff:ffff:ffff:ffff") == 1u);
  CHECK(encap_id(table, "2001:db8:100:5::1") == 2u);
  CHECK(encap_id(table, "2001:db8:100:5:7fff:ffff:ffff:ffff") == 2u);
  CHECK(encap_id(table, "2001:db8:100:5::99") == 3u);
  CHECK(encap_id(table, "2001:db8:100:5:8000::1") == 4u);
  CHECK(encap_id(table, "9000::1") == 5u);
  CHECK(encap_id(table, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") == 5u);
  CHECK(encap_id(table, "2001:db8:100:5::abcd") == 6u);
  CHECK(encap_id(table, "2001:db8:100:5::abcc") == 2u);
  CHECK(encap_id(table, "2001:db8:100:5::abce") == 7u);
  CHECK(encap_id(table, "2001:db8:100:5::abcf") == 7u);
  CHECK(encap_id(table, "2001:db8:200:7f::1") == 8u);
  CHECK(encap_id(table, "2001:db8:200:80::1") == std::nullopt);
  CHECK(encap_id(table, "2001:db8:101::1") == std::nullopt);
  CHECK(encap_id(table, "::1") == std::nullopt);

  // Removing the longer prefix falls back to the shorter one; removing that leaves nothing.
  REQUIRE(table.remove(2));
  CHECK(encap_id(table, "2001:db8:100:5::1") == 1u);
  CHECK(encap_id(table, "2001:db8:100:5::99") == 3u);
  REQUIRE(table.remove(1));
  CHECK(encap_id(table, "2001:db8:100:5::1") == std::nullopt);
  CHECK(encap_id(table, "2001:db8:100:5::abcd") == 6u);

  // Moving a prefix to a new length re-indexes it.
  REQUIRE(table.upsert(with_prefix(proto41(8, "192.0.2.8", "2001:db8:ffff::8"), "2001:db8:200::/48")));
  CHECK(encap_id(table, "2001:db8:200:80::1") == 8u);
  // Dropping the prefix keeps the tunnel reachable by its /128 only.
  REQUIRE(table.upsert(proto41(8, "192.0.2.8", "2001:db8:ffff::8")));
  CHECK(encap_id(table, "2001:db8:200::1") == std::nullopt);
  CHECK(encap_id(table, "2001:db8:ffff::8") == 8u);
}

TEST_CASE("may_find_encap: the site filter rules out other /48s, until a prefix shorter than /48 is in use",
          "[tunnel_table]") {
  TunnelTable table(64);
  TunnelEntry e = make_entry(1, 0);
  e.prefix = Ipv6Addr{};
  e.prefix_len = 0;
  REQUIRE(table.upsert(e));
  CHECK(table.may_find_encap(e.client_v6));
  auto ruled_out = [&] {
    int n = 0;
    for (uint32_t site = 0; site < 100; ++site) n += !table.may_find_encap(groups({0x2001, 0x0db8, 0xbe00, site, 0, 0, 0, 1}));
    return n;
  };
  // One bit in thousands is set: a false "maybe" for more than a few of 100 other /48s would
  // mean the filter does nothing.
  CHECK(ruled_out() >= 90);
  TunnelEntry wide = make_entry(2, 0);
  wide.prefix = groups({0x2a00, 0, 0, 0, 0, 0, 0, 0});
  wide.prefix_len = 32;
  REQUIRE(table.upsert(wide));
  CHECK(ruled_out() == 0);  // the filter is off: a /32 holds many /48s
  REQUIRE(table.remove(2));
  CHECK(ruled_out() >= 90);
}

TEST_CASE("may_find_encap: a full table's filter still rules out most other /48s", "[tunnel_table]") {
  // 4,096 tunnels, each with a /48 of its own from one sequential pool (2a01:0:n::/48) and a
  // /128 from one shared /48: 4,097 sites in a filter of 8 bits per tunnel, 12.5 % of its bits.
  // Addresses in 10,000 other /48s (sequential, as a scan would go, and random) should see at
  // most about that share of false "maybe"s; a hash that spread sequential sites badly would see far more
  // (all of them, if it sent everything to one bit).
  constexpr uint32_t kTunnels = 4096;
  TunnelTable table(kTunnels);
  for (uint32_t id = 0; id < kTunnels; ++id) {
    TunnelEntry e = proto41(id, "10.0.0.1", "2001:db8:f000::2");
    e.client_v4 = Ipv4Addr{0x0A000000u + id};
    e.client_v6 = groups({0x2001, 0x0db8, 0xf000, 0, 0, 0, id >> 16, id & 0xFFFF});
    e.prefix = groups({0x2a01, 0, id, 0, 0, 0, 0, 0});
    e.prefix_len = 48;
    REQUIRE(table.upsert(e));
  }
  int maybe_sequential = 0, maybe_random = 0;
  std::mt19937 rng(7);
  for (uint32_t site = 0; site < 10000; ++site) {
    maybe_sequential += table.may_find_encap(groups({0x2a01, 1, site, 0, 0, 0, 0, 1}));
    maybe_random += table.may_find_encap(groups({0x2c00 + (rng() & 0xFF), rng() & 0xFFFF, rng() & 0xFFFF, 0, 0, 0, 0, 1}));
  }
  CHECK(maybe_sequential < 2000);  // expected at most ~1,250
  CHECK(maybe_random < 2000);
  for (uint32_t id = 0; id < kTunnels; id += 97) CHECK(table.may_find_encap(groups({0x2a01, 0, id, 0, 0, 0, 0, 1})));
}

TEST_CASE("many /64 and /48 delegations are each found", "[tunnel_table]") {
  constexpr uint32_t kPerLength = 200;
  TunnelTable table(2 * kPerLength);
  const Ipv6Prefix pool64 = Ipv6Prefix::parse("2001:db8:1::/48").value();
  const Ipv6Prefix pool48 = Ipv6Prefix::parse("2001:db9::/32").value();
  for (uint32_t i = 0; i < 2 * kPerLength; ++i) {
    TunnelEntry e;
    e.id = i;
    e.client_v4 = Ipv4Addr{0xC0000200u + i};
    e.client_v6 = groups({0x2001, 0x0db8, 0xffff, 0, 0, 0, i >> 16, i & 0xFFFF});
    const Ipv6Prefix p = i < kPerLength ? nth_subprefix(pool64, 64, i) : nth_subprefix(pool48, 48, i);
    e.prefix = p.addr;
    e.prefix_len = p.len;
    REQUIRE(table.upsert(e));
  }
  std::mt19937_64 rng(7);
  for (uint32_t i = 0; i < 2 * kPerLength; ++i) {
    const Ipv6Prefix p = i < kPerLength ? nth_subprefix(pool64, 64, i) : nth_subprefix(pool48, 48, i);
    Ipv6Addr inside = p.addr;
    for (unsigned b = p.len / 8; b < 16; ++b) inside.bytes[b] = static_cast<uint8_t>(rng());
    const TunnelEntry* e = table.find_encap(inside);
    INFO(inside.to_string());
    REQUIRE(e);
    CHECK(e->id == i);
  }
  CHECK(table.find_encap(v6("2001:db8:1:ffff::1")) == nullptr);  // /64 number 65535 is not delegated
}

TEST_CASE("encap agrees with a linear longest-prefix scan for random lengths", "[tunnel_table]") {
  constexpr uint32_t kCapacity = 256;
  TunnelTable table(kCapacity);
  std::mt19937_64 rng(2024);
  // A few base addresses, so that prefixes nest and share buckets' worth of leading bits.
  std::array<Ipv6Addr, 4> bases;
  for (auto& b : bases) {
    for (auto& byte : b.bytes) byte = static_cast<uint8_t>(rng());
  }
  auto near_base = [&] {
    Ipv6Addr a = bases[rng() % bases.size()];
    const unsigned flip = static_cast<unsigned>(rng() % 129);  // 128 = leave it as is
    if (flip < 128) a.bytes[flip / 8] ^= static_cast<uint8_t>(0x80u >> (flip % 8));
    return a;
  };

  for (uint32_t id = 0; id < kCapacity; ++id) {
    TunnelEntry e;
    e.id = id;
    e.client_v4 = Ipv4Addr{0x0A000000u + id};
    e.client_v6 = near_base();
    e.prefix_len = static_cast<uint8_t>(rng() % 129);
    e.prefix = near_base().masked(e.prefix_len);
    const UpsertResult r = table.try_upsert(e);
    // Random keys may repeat one another; anything else is a bug.
    CHECK((r == UpsertResult::Ok || r == UpsertResult::ClientV6Taken || r == UpsertResult::PrefixTaken));
    if (id % 5 == 0) table.remove(static_cast<uint32_t>(rng() % (id + 1)));
  }
  const std::vector<TunnelEntry> entries = table.snapshot();
  REQUIRE(entries.size() > kCapacity / 2);

  auto reference = [&](const Ipv6Addr& dst) -> std::optional<uint32_t> {
    for (const TunnelEntry& e : entries) {
      if (e.client_v6 == dst) return e.id;
    }
    std::optional<uint32_t> best;
    int best_len = -1;
    for (const TunnelEntry& e : entries) {
      if (e.has_prefix() && e.prefix_len > best_len && Ipv6Prefix{e.prefix, e.prefix_len}.contains(dst)) {
        best = e.id;
        best_len = e.prefix_len;
      }
    }
    return best;
  };
  size_t matched = 0;
  for (int q = 0; q < 4000; ++q) {
    const Ipv6Addr dst = near_base();
    const TunnelEntry* got = table.find_encap(dst);
    const std::optional<uint32_t> want = reference(dst);
    INFO(dst.to_string());
    REQUIRE((got ? std::optional<uint32_t>(got->id) : std::nullopt) == want);
    if (want) ++matched;
  }
  CHECK(matched > 1000);  // the comparison is not just "both found nothing"
}

TEST_CASE("snapshot and get return the published entries", "[tunnel_table]") {
  TunnelTable table(64);
  CHECK(table.snapshot().empty());
  std::vector<TunnelEntry> expected;
  for (uint32_t id : {40u, 3u, 17u, 63u, 0u}) REQUIRE(table.upsert(make_entry(id, 6)));
  for (uint32_t id : {0u, 3u, 17u, 40u, 63u}) expected.push_back(make_entry(id, 6));
  CHECK(table.snapshot() == expected);
  CHECK(table.get(17) == make_entry(17, 6));
  CHECK_FALSE(table.get(18));
  REQUIRE(table.upsert(make_entry(17, 9)));
  REQUIRE(table.remove(40));
  expected = {make_entry(0, 6), make_entry(3, 6), make_entry(17, 9), make_entry(63, 6)};
  CHECK(table.snapshot() == expected);
  CHECK(table.get(17) == make_entry(17, 9));
  CHECK_FALSE(table.get(40));
}

TEST_CASE("last-seen stamps are seeded on insert and kept across replacement", "[tunnel_table]") {
  TunnelTable table(4);
  REQUIRE(table.upsert(make_entry(1, 0), 100));
  CHECK(table.last_seen(1) == 100);
  table.stamp_last_seen(1, 250);
  CHECK(table.last_seen(1) == 250);
  REQUIRE(table.upsert(make_entry(1, 2), 999));  // a replacement, not an insert
  CHECK(table.last_seen(1) == 250);
  REQUIRE(table.remove(1));
  CHECK(table.last_seen(1) == 0);
  REQUIRE(table.upsert(make_entry(1, 4)));
  CHECK(table.last_seen(1) == 0);
  table.stamp_last_seen(4, 7);  // out of range: ignored
  table.stamp_last_seen(0xFFFFFFFFu, 7);
  CHECK(table.last_seen(4) == 0);
  CHECK(table.last_seen(0xFFFFFFFFu) == 0);
}

TEST_CASE("rcu helpers register, go offline and refuse a second registration", "[tunnel_table][rcu]") {
  CHECK_FALSE(rcu_is_online());
  rcu_quiescent();  // harmless on an unregistered thread and must not bring it online
  CHECK_FALSE(rcu_is_online());
  {
    RcuReaderThread reader;
    CHECK(rcu_is_online());
    CHECK_THROWS_AS(RcuReaderThread(), std::logic_error);
    {
      RcuOfflineScope offline;
      CHECK_FALSE(rcu_is_online());
      rcu_quiescent();  // stays offline
      CHECK_FALSE(rcu_is_online());
    }
    CHECK(rcu_is_online());
    rcu_synchronize();  // an online caller does not wait for itself
    CHECK(rcu_is_online());
  }
  CHECK_FALSE(rcu_is_online());
}

TEST_CASE("replacements in quick succession share grace periods", "[tunnel_table][rcu]") {
  TunnelTable table(8);
  constexpr int kReplacements = 3000;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kReplacements; ++i) REQUIRE(table.upsert(make_entry(3, static_cast<uint32_t>(i % 2))));
  table.wait_for_reclaim();
  const auto elapsed_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  CHECK(table.awaiting_reclaim() == 0);
  // One batch per millisecond at most, plus the one wait_for_reclaim asks for at once.
  INFO(table.reclaim_batches() << " batches in " << elapsed_ms << " ms");
  CHECK(table.reclaim_batches() <= static_cast<uint64_t>(elapsed_ms) + 2);
  CHECK(table.reclaim_batches() < kReplacements / 10);
}

TEST_CASE("an entry is freed only after the reader holding it reports a quiescent state", "[tunnel_table][rcu]") {
  TunnelTable table(8);
  REQUIRE(table.upsert(make_entry(5, 0)));
  RcuReaderThread reader;
  const TunnelEntry* held = table.find_encap(make_entry(5, 0).client_v6);
  REQUIRE(held);

  REQUIRE(table.upsert(make_entry(5, 2)));  // replaced: the old version is retired, not freed
  REQUIRE(table.remove(5));
  CHECK(table.awaiting_reclaim() == 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  // The grace period cannot end while this thread is online without a quiescent state.
  CHECK(table.awaiting_reclaim() == 2);
  CHECK(*held == make_entry(5, 0));  // still readable (ASan would report a use after free)

  rcu_quiescent();  // `held` is dead from here on
  table.wait_for_reclaim();
  CHECK(table.awaiting_reclaim() == 0);
  CHECK(rcu_is_online());
}

namespace {

struct ReaderStats {
  uint64_t rounds = 0, by_id_hits = 0, decap_hits = 0, client_hits = 0, prefix_hits = 0;
};

struct WriterStats {
  uint64_t inserts = 0, payload_replaces = 0, key_replaces = 0, removes = 0, refused = 0;
};

// Collects failures from threads (Catch's assertions are not thread-safe).
class FailureLog {
 public:
  void add(const std::string& what, const TunnelEntry* e) {
    std::lock_guard lock(mu_);
    if (count_++ == 0) first_ = what + (e ? ": " + describe(*e) : std::string());
  }
  uint64_t count() const {
    std::lock_guard lock(mu_);
    return count_;
  }
  std::string first() const {
    std::lock_guard lock(mu_);
    return first_;
  }

 private:
  mutable std::mutex mu_;
  uint64_t count_ = 0;
  std::string first_;
};

}  // namespace

TEST_CASE("readers never see a torn, mismatched or freed entry while writers churn", "[tunnel_table][concurrency]") {
  constexpr uint32_t kCapacity = 512;
  // Ids below kStable are published once and never touched: they share chains with churning
  // entries, and a reader must find them every time (a broken link would hide them).
  constexpr uint32_t kStable = 64;
  constexpr unsigned kReaders = 2, kWriters = 2;
  const auto kChurn = std::chrono::milliseconds(1200);
  TunnelTable table(kCapacity);
  std::atomic<bool> stop{false};
  FailureLog failures;

  auto reader_loop = [&](unsigned seed, ReaderStats& stats) {
    RcuReaderThread rcu;
    std::mt19937 rng(seed);
    // False for a miss (a writer may just have moved or removed the entry).
    auto check = [&](const char* lookup, const TunnelEntry* got, uint32_t want_id) {
      if (!got) return false;
      if (!consistent(*got, kCapacity)) {
        failures.add(std::string(lookup) + " returned a torn or freed entry", got);
      } else if (got->id != want_id) {
        failures.add(std::string(lookup) + " returned another tunnel", got);
      }
      return true;
    };
    while (!stop.load(std::memory_order_relaxed)) {
      for (int i = 0; i < 32; ++i) {
        const uint32_t id = rng() % kCapacity;
        const TunnelEntry* e = table.find_by_id(id);
        if (!e) continue;
        if (!check("find_by_id", e, id)) continue;
        ++stats.by_id_hits;
        // `e` stays valid until rcu_quiescent(), even if a writer replaces or removes it now.
        const TunnelEntry* d = find_decap(table, *e);
        if (check("find_decap", d, id)) {
          ++stats.decap_hits;
          if (d->mode != e->mode || d->client_v4 != e->client_v4 ||
              (e->mode == TunnelMode::V6UDPV4 && d->client_port != e->client_port)) {
            failures.add("find_decap returned an entry with another key", d);
          }
        }
        const TunnelEntry* c = table.find_encap(e->client_v6);
        if (check("find_encap(client)", c, id)) {
          ++stats.client_hits;
          if (c->client_v6 != e->client_v6) failures.add("find_encap returned another /128", c);
        }
        if (e->has_prefix()) {
          const Ipv6Addr inside = inside_prefix(*e);
          const TunnelEntry* p = table.find_encap(inside);
          if (check("find_encap(prefix)", p, id)) {
            ++stats.prefix_hits;
            if (!p->has_prefix() || !Ipv6Prefix{p->prefix, p->prefix_len}.contains(inside)) {
              failures.add("find_encap returned a prefix without the address", p);
            }
          }
        }
        if (!consistent(*e, kCapacity)) failures.add("entry changed while held", e);
        table.stamp_last_seen(id, stats.rounds);
      }
      const uint32_t stable_id = rng() % kStable;
      const TunnelEntry* stable = table.find_by_id(stable_id);
      if (!stable || *stable != make_entry(stable_id, 0) || find_decap(table, *stable) != stable ||
          table.find_encap(stable->client_v6) != stable ||
          (stable->has_prefix() && table.find_encap(inside_prefix(*stable)) != stable)) {
        failures.add("an untouched entry was missed or changed", stable);
      }
      ++stats.rounds;
      rcu_quiescent();
    }
  };

  // Writer w owns the ids with id % kWriters == w; both go through the table's writer mutex.
  auto writer_loop = [&](unsigned w, WriterStats& stats, std::vector<std::optional<uint32_t>>& gens) {
    std::mt19937 rng(1000 + w);
    const auto deadline = std::chrono::steady_clock::now() + kChurn;
    while (std::chrono::steady_clock::now() < deadline) {
      for (int i = 0; i < 64; ++i) {
        const uint32_t id = kStable + (rng() % ((kCapacity - kStable) / kWriters)) * kWriters + w;
        std::optional<uint32_t>& gen = gens[id];
        const unsigned action = rng() % 8;
        bool ok = true;
        if (!gen) {
          gen = 0;
          ok = table.upsert(make_entry(id, *gen));
          ++stats.inserts;
        } else if (action < 2) {
          ok = table.remove(id);
          gen.reset();
          ++stats.removes;
        } else {
          const uint32_t next = *gen + (action < 5 ? 1 : 2);
          (next / 2 == *gen / 2 ? stats.payload_replaces : stats.key_replaces) += 1;
          gen = next;
          ok = table.upsert(make_entry(id, next));
        }
        if (!ok) ++stats.refused;
      }
    }
  };

  std::vector<ReaderStats> reader_stats(kReaders);
  std::vector<WriterStats> writer_stats(kWriters);
  // Start full, so that readers hit from their first round; each writer then owns its own ids.
  std::vector<std::optional<uint32_t>> gens(kCapacity, 0u);
  for (uint32_t id = 0; id < kCapacity; ++id) REQUIRE(table.upsert(make_entry(id, 0)));
  std::vector<std::thread> readers, writers;
  for (unsigned r = 0; r < kReaders; ++r) readers.emplace_back(reader_loop, r + 1, std::ref(reader_stats[r]));
  for (unsigned w = 0; w < kWriters; ++w) {
    writers.emplace_back(writer_loop, w, std::ref(writer_stats[w]), std::ref(gens));
  }
  for (auto& t : writers) t.join();
  stop = true;
  for (auto& t : readers) t.join();

  INFO(failures.first());
  CHECK(failures.count() == 0);
  for (const WriterStats& s : writer_stats) {
    INFO("inserts " << s.inserts << " payload replaces " << s.payload_replaces << " key replaces "
                    << s.key_replaces << " removes " << s.removes);
    CHECK(s.refused == 0);
    CHECK(s.inserts > 500);
    CHECK(s.removes > 500);
    CHECK(s.payload_replaces > 500);
    CHECK(s.key_replaces > 500);
  }
  for (const ReaderStats& s : reader_stats) {
    INFO("rounds " << s.rounds << " by id " << s.by_id_hits << " decap " << s.decap_hits << " client "
                   << s.client_hits << " prefix " << s.prefix_hits);
    CHECK(s.rounds > 500);
    CHECK(s.by_id_hits > 2000);
    CHECK(s.decap_hits > 2000);
    CHECK(s.client_hits > 2000);
    CHECK(s.prefix_hits > 500);
  }

  // The table ends exactly as the writers left it, and everything retired gets freed.
  std::vector<TunnelEntry> expected;
  for (uint32_t id = 0; id < kCapacity; ++id) {
    if (gens[id]) expected.push_back(make_entry(id, *gens[id]));
  }
  CHECK(table.size() == expected.size());
  CHECK(table.snapshot() == expected);
  table.wait_for_reclaim();
  CHECK(table.awaiting_reclaim() == 0);
}
