// The tunnel service on its own: allocation, replacement, conflicts, expiry, capacity and the
// reload after a restart, checked against the dataplane table, the pools and the store.
#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "tests/unit/control_test_support.hpp"

using namespace tsp;
using namespace tsp::test;

namespace {

constexpr const char* kPrivateV4 = "192.168.1.10";
constexpr const char* kPublicV4 = "198.51.100.7";

const Identity kAnonymous{};

// What the XML parser makes of a gogoc create request.
xml::TunnelRequest request(const std::string& type, const std::string& declared_v4,
                           std::optional<unsigned> prefix_length = std::nullopt) {
  xml::TunnelRequest r;
  r.action = xml::TunnelAction::Create;
  r.type = type;
  r.client_ipv4 = declared_v4;
  r.keepalive_interval = 30;
  if (prefix_length) {
    r.router = true;
    r.prefix_length = prefix_length;
  }
  return r;
}

std::optional<store::TunnelRecord> live_record(TunnelService& service, const Ipv6Addr& client_v6) {
  for (const auto& rec : service.tunnels())
    if (rec.client_v6 == client_v6) return rec;
  return std::nullopt;
}

// prepare + commit at the fixture's time, both REQUIREd to succeed; returns the live record.
store::TunnelRecord open_tunnel(BrokerFixture& fx, const Identity& who, const xml::TunnelRequest& req,
                                const Peer& peer) {
  auto result = fx.service().prepare(who, req, peer, fx.now());
  INFO("prepare: " << static_cast<int>(result.status) << " " << result.reason);
  REQUIRE(result.status == Status::Success);
  REQUIRE(result.pending.has_value());
  REQUIRE(fx.service().commit(*result.pending, fx.now()).has_value());
  auto rec = live_record(fx.service(), result.offer.client_v6);
  REQUIRE(rec.has_value());
  return *rec;
}

Status prepare_status(BrokerFixture& fx, const Identity& who, const xml::TunnelRequest& req, const Peer& peer) {
  auto result = fx.service().prepare(who, req, peer, fx.now());
  if (result.pending) fx.service().abandon(*result.pending, fx.now());
  return result.status;
}

Ipv6Prefix host_block(const Ipv6Addr& a) { return Ipv6Prefix{a, 128}; }

bool quarantine_row(BrokerFixture& fx, const std::string& pool, const Ipv6Prefix& block, int64_t until) {
  const auto rows = fx.store().load_quarantine();
  return std::find(rows.begin(), rows.end(), store::QuarantineRecord{pool, block, until}) != rows.end();
}

// The same record without the activity stamp (the table, not the record, tracks activity).
store::TunnelRecord without_last_seen(store::TunnelRecord r) {
  r.last_seen = 0;
  return r;
}

}  // namespace

// ---- Registered users --------------------------------------------------------------------

TEST_CASE("a registered user keeps its /128 and prefix when reconnecting from another IPv4", "[service][user]") {
  BrokerFixture fx;
  fx.add_user("alice", "s3cret");
  const Identity alice{"alice"};
  const auto first = open_tunnel(fx, alice, request("v6v4", kPublicV4, 48), tcp_peer(kPublicV4));
  REQUIRE(first.prefix.has_value());
  fx.advance(100);

  SECTION("v6v4 from a new public address") {
    const auto second = open_tunnel(fx, alice, request("v6v4", "203.0.113.9", 48), tcp_peer("203.0.113.9"));
    CHECK(second.client_v6 == first.client_v6);
    CHECK(second.prefix == first.prefix);
    CHECK(second.id == first.id);  // the dataplane switches over in one publication
    CHECK(second.client_v4 == v4("203.0.113.9"));
    const auto decap = decap_proto41_lookup(fx.table(), v4("203.0.113.9"));
    REQUIRE(decap.has_value());
    CHECK(decap->id == second.id);
  }
  SECTION("v6udpv4 through a NAT") {
    const auto second = open_tunnel(fx, alice, request("v6anyv4", kPrivateV4, 48), udp_peer("203.0.113.9", 40100));
    CHECK(second.mode == store::TunnelModeRec::V6UDPV4);
    CHECK(second.client_v6 == first.client_v6);
    CHECK(second.prefix == first.prefix);
    const auto decap = decap_udp_lookup(fx.table(), v4("203.0.113.9"), 40100);
    REQUIRE(decap.has_value());
    CHECK(decap->id == second.id);
  }
  // One tunnel for the user, everywhere; the old outer key is gone.
  CHECK(fx.service().live_tunnels() == 1);
  CHECK(fx.table().size() == 1);
  CHECK_FALSE(decap_proto41_lookup(fx.table(), v4(kPublicV4)).has_value());
  const auto by_host = encap_lookup(fx.table(), first.client_v6);
  REQUIRE(by_host.has_value());
  CHECK(by_host->client_v4 == v4("203.0.113.9"));
  const auto rows = fx.store().load_tunnels();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].client_v4 == v4("203.0.113.9"));
  CHECK(fx.service().counters().replaced == 1);
  CHECK(fx.store().find_allocation("alice", "P_Endpoints") == host_block(first.client_v6));
  CHECK(fx.store().find_allocation("alice", "P_Sites48") == first.prefix);
}

TEST_CASE("a registered user gets the same addresses back after deleting its tunnel", "[service][user]") {
  BrokerFixture fx;
  fx.add_user("alice", "s3cret");
  fx.add_user("bob", "s3cret");
  const Identity alice{"alice"};
  const auto first = open_tunnel(fx, alice, request("v6v4", kPublicV4, 64), tcp_peer(kPublicV4));
  REQUIRE(fx.service().remove_for(alice, tcp_peer(kPublicV4), fx.now()));
  CHECK(fx.table().size() == 0);
  // Somebody else asks in between: alice's blocks stay hers.
  const auto bob = open_tunnel(fx, Identity{"bob"}, request("v6v4", "203.0.113.5", 64), tcp_peer("203.0.113.5"));
  CHECK(bob.client_v6 != first.client_v6);
  CHECK(bob.prefix != first.prefix);
  const auto again = open_tunnel(fx, alice, request("v6v4", kPublicV4, 64), tcp_peer(kPublicV4));
  CHECK(again.client_v6 == first.client_v6);
  CHECK(again.prefix == first.prefix);
}

// ---- Anonymous clients -------------------------------------------------------------------

TEST_CASE("an anonymous client gets a fresh address; the old one is quarantined after expiry", "[service][anonymous]") {
  ConfigText text;
  text.endpoints = "2001:db8:f001:1::/126";  // ::2 and ::3 for clients
  BrokerFixture fx(text);
  const int64_t t0 = fx.now();
  const auto old_tunnel = open_tunnel(fx, kAnonymous, request("v6anyv4", kPrivateV4), udp_peer(kPublicV4, 40001));
  CHECK(old_tunnel.client_v6 == v6("2001:db8:f001:1::2"));
  fx.advance(60);
  // The NAT gave the reconnecting box a new port: a new session, not the same tunnel.
  const auto fresh = open_tunnel(fx, kAnonymous, request("v6anyv4", kPrivateV4), udp_peer(kPublicV4, 40002));
  CHECK(fresh.client_v6 == v6("2001:db8:f001:1::3"));
  CHECK(fx.service().live_tunnels() == 2);
  CHECK(encap_lookup(fx.table(), old_tunnel.client_v6).has_value());

  // Only the new tunnel carries keepalives.
  fx.advance(40);
  fx.table().stamp_last_seen(fresh.id, static_cast<uint64_t>(fx.now()));
  CHECK(fx.service().expire_idle(fx.now()) == 1);
  CHECK(fx.now() - t0 == 100);

  const auto* endpoints = fx.service().pool("P_Endpoints");
  REQUIRE(endpoints != nullptr);
  CHECK(endpoints->quarantined() == 1);
  CHECK_FALSE(endpoints->in_use(host_block(old_tunnel.client_v6)));
  CHECK(quarantine_row(fx, "P_Endpoints", host_block(old_tunnel.client_v6), fx.now() + kQuarantineSeconds));
  CHECK_FALSE(encap_lookup(fx.table(), old_tunnel.client_v6).has_value());
  CHECK_FALSE(decap_udp_lookup(fx.table(), v4(kPublicV4), 40001).has_value());
  CHECK(encap_lookup(fx.table(), fresh.client_v6).has_value());

  // Nobody gets the old address while traffic for it may still be in flight...
  CHECK(prepare_status(fx, kAnonymous, request("v6anyv4", "203.0.113.30"), udp_peer("203.0.113.30")) ==
        Status::NoMoreTunnels);
  // ...and once the quarantine is over, the next client does.
  fx.advance(kQuarantineSeconds);
  fx.table().stamp_last_seen(fresh.id, static_cast<uint64_t>(fx.now()));
  const auto newcomer = open_tunnel(fx, kAnonymous, request("v6anyv4", "203.0.113.30"), udp_peer("203.0.113.30"));
  CHECK(newcomer.client_v6 == old_tunnel.client_v6);
}

TEST_CASE("an anonymous v6v4 box reconnecting from the same IPv4 replaces its old tunnel", "[service][anonymous]") {
  BrokerFixture fx;
  const auto old_tunnel = open_tunnel(fx, kAnonymous, request("v6v4", kPublicV4), tcp_peer(kPublicV4, 50001));
  fx.advance(10);
  const auto fresh = open_tunnel(fx, kAnonymous, request("v6v4", kPublicV4), tcp_peer(kPublicV4, 50002));
  CHECK(fresh.client_v6 != old_tunnel.client_v6);
  CHECK(fx.service().live_tunnels() == 1);
  CHECK(fx.table().size() == 1);
  const auto decap = decap_proto41_lookup(fx.table(), v4(kPublicV4));
  REQUIRE(decap.has_value());
  CHECK(decap->client_v6 == fresh.client_v6);
  CHECK_FALSE(encap_lookup(fx.table(), old_tunnel.client_v6).has_value());
  CHECK(fx.service().pool("P_Endpoints")->quarantined() == 1);
  CHECK(quarantine_row(fx, "P_Endpoints", host_block(old_tunnel.client_v6), fx.now() + kQuarantineSeconds));
  const auto rows = fx.store().load_tunnels();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].client_v6 == fresh.client_v6);
}

// ---- Anonymous tunnels per address ------------------------------------------------------

TEST_CASE("limit anonymous per-address: one address holds at most N anonymous tunnels, offered or live",
          "[service][anonymous][limit]") {
  ConfigText text;
  text.limit_anonymous_per_address = 2;
  BrokerFixture fx(text);
  fx.add_user("alice", "s3cret");
  const auto first = open_tunnel(fx, kAnonymous, request("v6anyv4", kPrivateV4), udp_peer(kPublicV4, 40001));
  // An offer not yet accepted counts as well: a client cannot hold many by never accepting.
  auto offered = fx.service().prepare(kAnonymous, request("v6anyv4", kPrivateV4), udp_peer(kPublicV4, 40002), fx.now());
  REQUIRE(offered.status == Status::Success);
  CHECK(fx.service().anonymous_held_by(v4(kPublicV4)) == 2);

  const auto endpoints_used = fx.service().pool("P_Endpoints")->used();
  auto third = fx.service().prepare(kAnonymous, request("v6anyv4", kPrivateV4), udp_peer(kPublicV4, 40003), fx.now());
  CHECK(third.status == Status::NoMoreTunnels);
  CHECK(third.reason == "198.51.100.7 holds 2 anonymous tunnels (limit anonymous per-address 2)");
  CHECK_FALSE(third.pending.has_value());
  CHECK(fx.service().counters().anonymous_limited == 1);
  CHECK(fx.service().counters().refused == 1);
  CHECK(fx.service().pool("P_Endpoints")->used() == endpoints_used);  // refused before anything was allocated

  // Other addresses, and registered users at the same address, are not held to it.
  CHECK(prepare_status(fx, kAnonymous, request("v6anyv4", kPrivateV4), udp_peer("198.51.100.8", 40003)) ==
        Status::Success);
  open_tunnel(fx, Identity{"alice"}, request("v6anyv4", kPrivateV4), udp_peer(kPublicV4, 40004));
  CHECK(fx.service().anonymous_held_by(v4(kPublicV4)) == 2);

  // The box on the first NAT mapping asks again: it takes over its own tunnel, at the limit.
  const auto again = open_tunnel(fx, kAnonymous, request("v6anyv4", kPrivateV4), udp_peer(kPublicV4, 40001));
  CHECK(again.id != first.id);
  CHECK(fx.service().anonymous_held_by(v4(kPublicV4)) == 2);
  CHECK_FALSE(encap_lookup(fx.table(), first.client_v6).has_value());

  // The offer withdrawn (reject, or its session ended): room for one more.
  fx.service().abandon(*offered.pending, fx.now());
  CHECK(fx.service().anonymous_held_by(v4(kPublicV4)) == 1);
  const auto later = open_tunnel(fx, kAnonymous, request("v6anyv4", kPrivateV4), udp_peer(kPublicV4, 40005));
  CHECK(fx.service().anonymous_held_by(v4(kPublicV4)) == 2);
  CHECK(prepare_status(fx, kAnonymous, request("v6anyv4", kPrivateV4), udp_peer(kPublicV4, 40006)) ==
        Status::NoMoreTunnels);

  // A tunnel that goes (kicked here; expiry and delete take the same way out) frees its place.
  REQUIRE(fx.service().kick(later.id, fx.now()));
  CHECK(fx.service().anonymous_held_by(v4(kPublicV4)) == 1);
  const auto replacement = open_tunnel(fx, kAnonymous, request("v6anyv4", kPrivateV4), udp_peer(kPublicV4, 40006));
  CHECK(fx.service().anonymous_held_by(v4(kPublicV4)) == 2);
  CHECK(fx.service().counters().anonymous_limited == 2);

  // Expiry.
  fx.advance(91);
  fx.table().stamp_last_seen(again.id, static_cast<uint64_t>(fx.now()));
  CHECK(fx.service().expire_idle(fx.now()) == 2);  // `replacement` and alice's
  CHECK_FALSE(live_record(fx.service(), replacement.client_v6).has_value());
  CHECK(fx.service().anonymous_held_by(v4(kPublicV4)) == 1);
}

TEST_CASE("limit anonymous per-address counts a proxy request against the address it came from, and reloads",
          "[service][anonymous][limit]") {
  ConfigText text;
  text.limit_anonymous_per_address = 1;
  BrokerFixture fx(text);
  // proxy="yes": the request names another box's endpoint; the asker is what is limited.
  auto proxied = request("v6v4", "203.0.113.70");
  proxied.proxy = true;
  open_tunnel(fx, kAnonymous, proxied, tcp_peer(kPublicV4, 50001));
  CHECK(fx.service().anonymous_held_by(v4(kPublicV4)) == 1);
  CHECK(fx.service().anonymous_held_by(v4("203.0.113.70")) == 0);
  auto another = request("v6v4", "203.0.113.71");
  another.proxy = true;
  CHECK(prepare_status(fx, kAnonymous, another, tcp_peer(kPublicV4, 50002)) == Status::NoMoreTunnels);

  // Proto 41 from the same address replaces the box's own tunnel: allowed at the limit.
  const auto v6v4 = open_tunnel(fx, kAnonymous, request("v6v4", "198.51.100.20"), tcp_peer("198.51.100.20", 50003));
  CHECK(fx.service().anonymous_held_by(v4("198.51.100.20")) == 1);
  const auto v6v4_again = open_tunnel(fx, kAnonymous, request("v6v4", "198.51.100.20"), tcp_peer("198.51.100.20", 50004));
  CHECK(v6v4_again.client_v6 != v6v4.client_v6);
  CHECK(fx.service().anonymous_held_by(v4("198.51.100.20")) == 1);

  // The store keeps only the endpoint: after a restart a tunnel counts against it.
  REQUIRE(fx.restart() == 2);
  CHECK(fx.service().anonymous_held_by(v4("198.51.100.20")) == 1);
  CHECK(fx.service().anonymous_held_by(v4("203.0.113.70")) == 1);
  CHECK(fx.service().anonymous_held_by(v4(kPublicV4)) == 0);
  CHECK(prepare_status(fx, kAnonymous, request("v6anyv4", kPrivateV4), udp_peer("198.51.100.20", 40001)) ==
        Status::NoMoreTunnels);
  CHECK(prepare_status(fx, kAnonymous, request("v6anyv4", kPrivateV4), udp_peer(kPublicV4, 40001)) == Status::Success);
}

TEST_CASE("limit anonymous per-address 0 is no limit; a reload changes it for new requests only",
          "[service][anonymous][limit]") {
  ConfigText text;
  text.limit_anonymous_per_address = 0;
  BrokerFixture fx(text);
  for (uint16_t port = 40001; port <= 40005; ++port)
    open_tunnel(fx, kAnonymous, request("v6anyv4", kPrivateV4), udp_peer(kPublicV4, port));
  CHECK(fx.service().anonymous_held_by(v4(kPublicV4)) == 5);

  text.limit_anonymous_per_address = 3;
  std::string error;
  REQUIRE(fx.service().reconfigure(std::make_shared<const config::Config>(parse_test_config(text)), fx.now(), error));
  CHECK(fx.service().live_tunnels() == 5);  // over the new limit, and kept
  CHECK(prepare_status(fx, kAnonymous, request("v6anyv4", kPrivateV4), udp_peer(kPublicV4, 40006)) ==
        Status::NoMoreTunnels);
  for (const auto& rec : fx.service().tunnels()) {
    if (rec.client_port == 40001 || rec.client_port == 40002 || rec.client_port == 40003) {
      REQUIRE(fx.service().kick(rec.id, fx.now()));
    }
  }
  CHECK(fx.service().anonymous_held_by(v4(kPublicV4)) == 2);
  CHECK(prepare_status(fx, kAnonymous, request("v6anyv4", kPrivateV4), udp_peer(kPublicV4, 40006)) == Status::Success);
}

// ---- Conflicts ---------------------------------------------------------------------------

TEST_CASE("506: another user's v6v4 tunnel already comes from that IPv4", "[service][conflict]") {
  BrokerFixture fx;
  fx.add_user("alice", "s3cret");
  fx.add_user("bob", "s3cret");
  const auto alice = open_tunnel(fx, Identity{"alice"}, request("v6v4", "192.0.2.50"), tcp_peer("192.0.2.50"));

  CHECK(prepare_status(fx, Identity{"bob"}, request("v6v4", "192.0.2.50"), tcp_peer("192.0.2.50")) ==
        Status::Ipv4AlreadyUsed);
  CHECK(prepare_status(fx, kAnonymous, request("v6anyv4", "192.0.2.50"), udp_peer("192.0.2.50")) ==
        Status::Ipv4AlreadyUsed);
  // The refusal comes before anything is allocated to bob.
  CHECK_FALSE(fx.store().find_allocation("bob", "P_Endpoints").has_value());

  SECTION("the session frames it for the client") {
    TestClient client(fx, tcp_peer("192.0.2.50"));
    client.hello();
    client.login_plain("bob", "s3cret");
    CHECK(client.create(host_request("192.0.2.50", "v6v4")) ==
          framed_reply("506 IPv4 address already used by another tunnel\r\n"));
  }
  SECTION("IPv6 in UDP from behind the same address is another key") {
    const auto bob = open_tunnel(fx, Identity{"bob"}, request("v6udpv4", "10.0.0.2"), udp_peer("192.0.2.50", 40500));
    CHECK(bob.mode == store::TunnelModeRec::V6UDPV4);
    CHECK(fx.service().live_tunnels() == 2);
  }
  // Alice's tunnel is untouched.
  const auto decap = decap_proto41_lookup(fx.table(), v4("192.0.2.50"));
  REQUIRE(decap.has_value());
  CHECK(decap->client_v6 == alice.client_v6);
}

// ---- Expiry ------------------------------------------------------------------------------

TEST_CASE("tunnels silent for keepalive_interval * keepalive_missed expire", "[service][expiry]") {
  ConfigText text;
  text.keepalive_interval = 20;
  text.keepalive_missed = 4;  // 80 s
  BrokerFixture fx(text);
  fx.add_user("alice", "s3cret");
  const auto tunnel = open_tunnel(fx, Identity{"alice"}, request("v6v4", kPublicV4, 64), tcp_peer(kPublicV4));
  REQUIRE(tunnel.keepalive_interval == 20u);

  SECTION("silence: kept at the limit, removed just past it") {
    fx.advance(80);
    CHECK(fx.service().expire_idle(fx.now()) == 0);
    CHECK(fx.table().size() == 1);
    fx.advance(1);
    CHECK(fx.service().expire_idle(fx.now()) == 1);
    CHECK(fx.table().size() == 0);
    CHECK_FALSE(encap_lookup(fx.table(), tunnel.client_v6).has_value());
    CHECK_FALSE(decap_proto41_lookup(fx.table(), v4(kPublicV4)).has_value());
    CHECK(fx.store().load_tunnels().empty());
    CHECK(fx.service().live_tunnels() == 0);
    CHECK(fx.service().counters().expired == 1);
    // A registered user's blocks stay reserved for the next login.
    CHECK(fx.service().pool("P_Endpoints")->in_use(host_block(tunnel.client_v6)));
    CHECK(fx.store().find_allocation("alice", "P_Endpoints") == host_block(tunnel.client_v6));
  }
  SECTION("traffic stamped by the dataplane keeps it alive") {
    fx.advance(60);
    fx.table().stamp_last_seen(tunnel.id, static_cast<uint64_t>(fx.now()));
    fx.advance(60);  // 120 s after the commit, 60 s after the last packet
    CHECK(fx.service().expire_idle(fx.now()) == 0);
    CHECK(fx.table().size() == 1);
    CHECK(fx.store().load_tunnels().size() == 1);
    fx.advance(21);  // 81 s after the last packet
    CHECK(fx.service().expire_idle(fx.now()) == 1);
    CHECK(fx.table().size() == 0);
    CHECK(fx.store().load_tunnels().empty());
  }
}

TEST_CASE("control-only UDP activity keeps a v6udpv4 tunnel alive", "[service][expiry]") {
  BrokerFixture fx;
  const auto tunnel = open_tunnel(fx, kAnonymous, request("v6anyv4", kPrivateV4), udp_peer(kPublicV4, 40001));
  REQUIRE(tunnel.mode == store::TunnelModeRec::V6UDPV4);
  fx.advance(80);
  fx.service().note_udp_activity(v4(kPublicV4), 40002, fx.now());  // another mapping: no effect
  fx.advance(20);
  CHECK(fx.service().expire_idle(fx.now()) == 1);

  const auto second = open_tunnel(fx, kAnonymous, request("v6anyv4", kPrivateV4), udp_peer(kPublicV4, 40003));
  fx.advance(80);
  fx.service().note_udp_activity(v4(kPublicV4), 40003, fx.now());
  fx.advance(20);
  CHECK(fx.service().expire_idle(fx.now()) == 0);
  CHECK(encap_lookup(fx.table(), second.client_v6).has_value());
}

// ---- Reload after a restart --------------------------------------------------------------

TEST_CASE("a restarted broker reloads tunnels, allocations and quarantine from the store", "[service][reload]") {
  BrokerFixture fx;
  fx.add_user("alice", "s3cret");
  const auto anon = open_tunnel(fx, kAnonymous, request("v6anyv4", kPrivateV4), udp_peer(kPublicV4, 40001));
  const auto alice = open_tunnel(fx, Identity{"alice"}, request("v6v4", "203.0.113.9", 48), tcp_peer("203.0.113.9"));
  const auto gone = open_tunnel(fx, kAnonymous, request("v6v4", "203.0.113.50"), tcp_peer("203.0.113.50"));
  CHECK(anon.client_v6 == v6("2001:db8:f001:1::2"));
  CHECK(alice.client_v6 == v6("2001:db8:f001:1::3"));
  CHECK(gone.client_v6 == v6("2001:db8:f001:1::4"));
  // `gone` falls silent and expires; the others keep talking.
  fx.advance(91);
  fx.table().stamp_last_seen(anon.id, static_cast<uint64_t>(fx.now()));
  fx.table().stamp_last_seen(alice.id, static_cast<uint64_t>(fx.now()));
  REQUIRE(fx.service().expire_idle(fx.now()) == 1);

  const auto before = fx.service().tunnels();
  const auto endpoints_used = fx.service().pool("P_Endpoints")->used();
  const auto sites_used = fx.service().pool("P_Sites48")->used();

  fx.advance(5);
  CHECK(fx.restart() == 2);

  const auto after = fx.service().tunnels();
  REQUIRE(after.size() == before.size());
  for (size_t i = 0; i < before.size(); ++i) CHECK(without_last_seen(after[i]) == without_last_seen(before[i]));
  CHECK(fx.table().size() == 2);
  const auto anon_entry = decap_udp_lookup(fx.table(), v4(kPublicV4), 40001);
  REQUIRE(anon_entry.has_value());
  CHECK(anon_entry->id == anon.id);
  CHECK(anon_entry->client_v6 == anon.client_v6);
  const auto alice_entry = encap_lookup(fx.table(), *Ipv6Addr::parse("2001:db8:f100::77"));
  REQUIRE(alice_entry.has_value());
  CHECK(alice_entry->id == alice.id);
  CHECK(alice_entry->client_v4 == v4("203.0.113.9"));

  const auto* endpoints = fx.service().pool("P_Endpoints");
  CHECK(endpoints->used() == endpoints_used);
  CHECK(endpoints->in_use(host_block(anon.client_v6)));
  CHECK(endpoints->in_use(host_block(alice.client_v6)));
  CHECK(endpoints->quarantined() == 1);  // gone's address
  CHECK(fx.service().pool("P_Sites48")->used() == sites_used);

  // The next anonymous client gets none of the addresses in use or in quarantine.
  const auto next = open_tunnel(fx, kAnonymous, request("v6v4", "203.0.113.60"), tcp_peer("203.0.113.60"));
  CHECK(next.client_v6 == v6("2001:db8:f001:1::5"));
  CHECK(next.id != anon.id);
  CHECK(next.id != alice.id);
  // Alice comes back to the same addresses and the same slot.
  const auto alice_again = open_tunnel(fx, Identity{"alice"}, request("v6v4", "203.0.113.10", 48), tcp_peer("203.0.113.10"));
  CHECK(alice_again.client_v6 == alice.client_v6);
  CHECK(alice_again.prefix == alice.prefix);
  CHECK(alice_again.id == alice.id);
  CHECK(fx.table().size() == 3);
}

TEST_CASE("reloaded tunnels get a fresh idle period: the broker saw no traffic while down", "[service][reload][expiry]") {
  BrokerFixture fx;
  const auto tunnel = open_tunnel(fx, kAnonymous, request("v6anyv4", kPrivateV4), udp_peer(kPublicV4, 40001));
  // A day of keepalives, seen by the dataplane only.
  for (int i = 0; i < 24 * 60; ++i) {
    fx.advance(60);
    fx.table().stamp_last_seen(tunnel.id, static_cast<uint64_t>(fx.now()));
  }
  CHECK(fx.service().expire_idle(fx.now()) == 0);
  fx.advance(10);  // the restart
  REQUIRE(fx.restart() == 1);
  fx.advance(1);  // the daemon's first expiry sweep
  CHECK(fx.service().expire_idle(fx.now()) == 0);
  CHECK(decap_udp_lookup(fx.table(), v4(kPublicV4), 40001).has_value());
  // Silent from then on, it expires like any other.
  fx.advance(90);
  CHECK(fx.service().expire_idle(fx.now()) == 1);
}

// ---- Capacity ----------------------------------------------------------------------------

TEST_CASE("an exhausted endpoints pool or a full table answers 301", "[service][capacity]") {
  SECTION("endpoints pool") {
    ConfigText text;
    text.endpoints = "2001:db8:f001:1::/126";
    BrokerFixture fx(text);
    open_tunnel(fx, kAnonymous, request("v6v4", "203.0.113.1"), tcp_peer("203.0.113.1"));
    open_tunnel(fx, kAnonymous, request("v6v4", "203.0.113.2"), tcp_peer("203.0.113.2"));
    CHECK(prepare_status(fx, kAnonymous, request("v6v4", "203.0.113.3"), tcp_peer("203.0.113.3")) ==
          Status::NoMoreTunnels);
    fx.add_user("alice", "s3cret");
    CHECK(prepare_status(fx, Identity{"alice"}, request("v6v4", "203.0.113.4"), tcp_peer("203.0.113.4")) ==
          Status::NoMoreTunnels);
    CHECK(fx.table().size() == 2);
  }
  SECTION("limit tunnels 2") {
    ConfigText text;
    text.limit_tunnels = 2;
    BrokerFixture fx(text);
    open_tunnel(fx, kAnonymous, request("v6v4", "203.0.113.1"), tcp_peer("203.0.113.1"));
    // A pending offer holds a slot until it is accepted or abandoned.
    auto pending = fx.service().prepare(kAnonymous, request("v6v4", "203.0.113.2"), tcp_peer("203.0.113.2"), fx.now());
    REQUIRE(pending.status == Status::Success);
    CHECK(prepare_status(fx, kAnonymous, request("v6v4", "203.0.113.3"), tcp_peer("203.0.113.3")) ==
          Status::NoMoreTunnels);
    fx.service().abandon(*pending.pending, fx.now());
    open_tunnel(fx, kAnonymous, request("v6v4", "203.0.113.3"), tcp_peer("203.0.113.3"));
    CHECK(prepare_status(fx, kAnonymous, request("v6v4", "203.0.113.4"), tcp_peer("203.0.113.4")) ==
          Status::NoMoreTunnels);
    CHECK(fx.table().size() == 2);
    // The session frames it.
    TestClient client(fx, udp_peer("203.0.113.5"));
    client.hello();
    client.login_anonymous();
    CHECK(client.create(host_request("203.0.113.5")) == framed_reply("301 No more tunnels available\r\n"));
  }
}

// The replacement takes over the user's slot, so a full table must not refuse the reconnect.
TEST_CASE("a registered user may reconnect while the table is full", "[service][capacity]") {
  ConfigText text;
  text.limit_tunnels = 2;
  BrokerFixture fx(text);
  fx.add_user("alice", "s3cret");
  const auto first = open_tunnel(fx, Identity{"alice"}, request("v6v4", kPublicV4), tcp_peer(kPublicV4));
  open_tunnel(fx, kAnonymous, request("v6v4", "203.0.113.1"), tcp_peer("203.0.113.1"));
  const auto second = open_tunnel(fx, Identity{"alice"}, request("v6v4", "203.0.113.9"), tcp_peer("203.0.113.9"));
  CHECK(second.id == first.id);
  CHECK(fx.table().size() == 2);
}

TEST_CASE("an id handed to a new tunnel after an earlier one is reported before it is published",
          "[service][counters]") {
  BrokerFixture fx{ConfigText{}};
  std::vector<uint32_t> reused;
  fx.service().on_slot_reused([&](uint32_t id) { reused.push_back(id); });
  const auto first = open_tunnel(fx, kAnonymous, request("v6anyv4", kPrivateV4), udp_peer(kPublicV4, 40001));
  const auto second = open_tunnel(fx, kAnonymous, request("v6anyv4", "192.168.1.11"), udp_peer("198.51.100.8", 40002));
  CHECK(reused.empty());  // fresh ids: nothing was counted under them
  REQUIRE(fx.service().kick(first.id, fx.now()));
  CHECK(reused.empty());
  const auto third = open_tunnel(fx, kAnonymous, request("v6anyv4", "192.168.1.12"), udp_peer("198.51.100.9", 40003));
  CHECK(third.id == first.id);
  CHECK(reused == std::vector<uint32_t>{first.id});
  CHECK(second.id != first.id);
}

// The TCP server closes a connection held for a tunnel as soon as the tunnel is gone: every
// way a committed tunnel stops forwarding must reach the watchers, once, naming that commit.
TEST_CASE("watchers hear of every committed tunnel that stops forwarding, once", "[service][watch]") {
  BrokerFixture fx;
  fx.add_user("alice", "s3cret");
  std::vector<LiveTunnel> gone;
  const uint64_t handle = fx.service().watch_gone([&](const LiveTunnel& t) { gone.push_back(t); });
  auto commit = [&](const Identity& who, const xml::TunnelRequest& req, const Peer& peer) {
    auto result = fx.service().prepare(who, req, peer, fx.now());
    REQUIRE(result.pending.has_value());
    const auto live = fx.service().commit(*result.pending, fx.now());
    REQUIRE(live.has_value());
    return *live;
  };
  auto heard = [&](const LiveTunnel& t) {
    return gone.size() == 1 && gone[0].id == t.id && gone[0].commit_serial == t.commit_serial;
  };
  const Identity alice{"alice"};
  const auto first = commit(alice, request("v6v4", kPublicV4, 64), tcp_peer(kPublicV4));
  CHECK(gone.empty());

  SECTION("kicked") {
    REQUIRE(fx.service().kick(first.id, fx.now()));
    CHECK(heard(first));
  }
  SECTION("deleted by a session of the user") {
    REQUIRE(fx.service().remove_for(alice, tcp_peer("203.0.113.9"), fx.now()));
    CHECK(heard(first));
  }
  SECTION("expired") {
    fx.advance(3600);
    REQUIRE(fx.service().expire_idle(fx.now()) == 1);
    CHECK(heard(first));
  }
  SECTION("its user deleted") {
    REQUIRE(fx.service().remove_user("alice", fx.now()));
    CHECK(heard(first));
  }
  SECTION("replaced by the user's next tunnel, which takes its slot") {
    const auto next = commit(alice, request("v6v4", "203.0.113.9", 64), tcp_peer("203.0.113.9"));
    CHECK(next.id == first.id);
    CHECK(heard(first));
    CHECK(fx.service().is_live(next));
  }
  SECTION("evicted: an anonymous v6v4 box reconnecting from the same IPv4 takes over") {
    const auto box = commit(kAnonymous, request("v6v4", "203.0.113.5"), tcp_peer("203.0.113.5"));
    CHECK(gone.empty());
    const auto again = commit(kAnonymous, request("v6v4", "203.0.113.5"), tcp_peer("203.0.113.5", 50002));
    CHECK(heard(box));
    CHECK(fx.service().is_live(again));
    CHECK(fx.service().is_live(first));
  }
  SECTION("no longer watched: nothing is heard") {
    fx.service().unwatch_gone(handle);
    REQUIRE(fx.service().kick(first.id, fx.now()));
    CHECK(gone.empty());
  }
}

TEST_CASE("every way a tunnel ends is kept in its history, with the time", "[service][history]") {
  BrokerFixture fx;
  store::TunnelHistory history(":memory:");
  fx.service().set_history(&history);
  fx.add_user("alice", "s3cret");
  const Identity alice{"alice"};
  const auto first = open_tunnel(fx, alice, request("v6v4", kPublicV4, 64), tcp_peer(kPublicV4));
  fx.advance(100);
  auto last_of = [&](const store::HistoryQuery& q) {
    const auto h = history.find(q);
    REQUIRE_FALSE(h.empty());
    return h[0];
  };
  auto ended = [&](const std::string& reason) {
    const auto r = last_of({.user = "alice"});
    CHECK(r.started_at == fx.now() - 100);
    CHECK(r.ended_at == fx.now());
    CHECK(r.end_reason == reason);
  };
  REQUIRE(first.prefix);
  {
    const auto r = last_of({.ipv6 = first.prefix->addr});
    CHECK(r.tunnel_id == first.id);
    CHECK(r.client_v4 == v4(kPublicV4));
    CHECK(r.prefix == first.prefix);
    CHECK_FALSE(r.ended_at);
  }
  SECTION("kicked") {
    REQUIRE(fx.service().kick(first.id, fx.now()));
    ended("kicked");
  }
  SECTION("deleted by a session of the user") {
    REQUIRE(fx.service().remove_for(alice, tcp_peer("203.0.113.9"), fx.now()));
    ended("deleted");
  }
  SECTION("expired") {
    fx.advance(3500);
    REQUIRE(fx.service().expire_idle(fx.now()) == 1);
    const auto r = last_of({.user = "alice"});
    CHECK(r.ended_at == fx.now());
    CHECK(r.end_reason == "expired");
  }
  SECTION("its user deleted") {
    REQUIRE(fx.service().remove_user("alice", fx.now()));
    ended("user_deleted");
  }
  SECTION("replaced by the user's next tunnel from another address") {
    open_tunnel(fx, alice, request("v6v4", "203.0.113.9", 64), tcp_peer("203.0.113.9"));
    const auto h = history.find({.user = "alice"});
    REQUIRE(h.size() == 2);
    CHECK(h[0].client_v4 == v4("203.0.113.9"));
    CHECK_FALSE(h[0].ended_at);
    CHECK(h[1].end_reason == "replaced");
    CHECK(h[1].ended_at == fx.now());
    // Who had the prefix at each moment.
    CHECK(history.find({.ipv6 = first.prefix->addr, .at = fx.now() - 50})[0].client_v4 == v4(kPublicV4));
  }
  SECTION("evicted: an anonymous v6v4 box reconnecting from the same IPv4 takes over") {
    const auto box = open_tunnel(fx, kAnonymous, request("v6v4", "203.0.113.5"), tcp_peer("203.0.113.5"));
    fx.advance(5);
    open_tunnel(fx, kAnonymous, request("v6v4", "203.0.113.5"), tcp_peer("203.0.113.5", 50002));
    const auto h = history.find({.ipv4 = v4("203.0.113.5")});
    REQUIRE(h.size() == 2);
    CHECK_FALSE(h[0].ended_at);
    CHECK(h[1].client_v6 == box.client_v6);
    CHECK(h[1].ended_at == fx.now());
    CHECK((h[1].end_reason == "evicted" || h[1].end_reason == "replaced"));
  }
}

TEST_CASE("user watchers hear of each deleted user, once, after the user's tunnel went", "[service][watch]") {
  BrokerFixture fx;
  fx.add_user("alice", "s3cret");
  const auto alice = open_tunnel(fx, Identity{"alice"}, request("v6v4", kPublicV4), tcp_peer(kPublicV4));
  std::vector<std::string> removed;
  bool tunnel_gone_first = false;
  const uint64_t handle = fx.service().watch_users_removed([&](const std::string& user) {
    removed.push_back(user);
    tunnel_gone_first = fx.table().size() == 0;  // under the service's mutex: the table, not the service
  });
  CHECK_FALSE(fx.service().remove_user("nobody", fx.now()));
  CHECK(removed.empty());
  REQUIRE(fx.service().remove_user("alice", fx.now()));
  CHECK(removed == std::vector<std::string>{"alice"});
  CHECK(tunnel_gone_first);
  CHECK_FALSE(encap_lookup(fx.table(), alice.client_v6).has_value());
  fx.add_user("alice", "s3cret");
  fx.service().unwatch_users_removed(handle);
  REQUIRE(fx.service().remove_user("alice", fx.now()));
  CHECK(removed.size() == 1);
}

// ---- Reverse DNS delegation -------------------------------------------------------------

TEST_CASE("a router's named name servers are delegations while its tunnel lives, and bad names get 509",
          "[service][dns]") {
  BrokerFixture fx;
  fx.add_user("alice", "s3cret");
  fx.add_user("bob", "s3cret");
  int changes = 0;
  std::vector<dns::DelegationChange> told;
  fx.service().on_delegations_changed([&](dns::DelegationChange c) {
    ++changes;
    told.push_back(std::move(c));
  });
  auto router = [](const std::string& v4, std::vector<std::string> names) {
    auto r = request("v6v4", v4, 64);
    r.dns_names = std::move(names);
    return r;
  };
  const auto alice = open_tunnel(fx, Identity{"alice"}, router(kPublicV4, {"ns1.example.net", "NS2.example.net."}),
                                 tcp_peer(kPublicV4));
  CHECK(changes == 1);
  REQUIRE(alice.prefix.has_value());
  REQUIRE(told.size() == 1);
  CHECK(told[0].prefix == *alice.prefix);
  REQUIRE(told[0].now != nullptr);
  CHECK(told[0].now->name_servers == std::vector<std::string>{"ns1.example.net", "NS2.example.net."});
  auto delegations = fx.service().delegations();
  REQUIRE(delegations.size() == 1);
  CHECK(delegations[0]->prefix == *alice.prefix);
  CHECK(delegations[0]->name_servers == std::vector<std::string>{"ns1.example.net", "NS2.example.net."});

  // A router without names and a host delegate nothing, and say nothing.
  open_tunnel(fx, Identity{"bob"}, request("v6v4", "203.0.113.9", 64), tcp_peer("203.0.113.9"));
  open_tunnel(fx, kAnonymous, request("v6v4", "203.0.113.10"), tcp_peer("203.0.113.10"));
  CHECK(changes == 1);
  CHECK(fx.service().delegations().size() == 1);

  SECTION("names that are not host names are refused with 509, and nothing changes") {
    for (const std::string bad : {"ns1.example.net.\n@ IN NS evil.example", "ns1 .example.net", "ns1.example.net;",
                                  "*.example.net", "localhost", "-ns.example.net", "ns..example.net", ""}) {
      INFO(bad);
      CHECK(prepare_status(fx, Identity{"alice"}, router(kPublicV4, {"ns1.example.net", bad}), tcp_peer(kPublicV4)) ==
            Status::DnsDelegationError);
    }
    CHECK(changes == 1);
    CHECK(fx.service().delegations().size() == 1);
  }
  SECTION("the user's next tunnel with other names takes the delegation over") {
    open_tunnel(fx, Identity{"alice"}, router("203.0.113.20", {"ns.other.example"}), tcp_peer("203.0.113.20"));
    CHECK(changes == 3);  // the old one went, the new one came
    REQUIRE(told.size() == 3);
    CHECK((told[1].prefix == *alice.prefix && told[1].now == nullptr));
    CHECK((told[2].prefix == *alice.prefix && told[2].now != nullptr));
    CHECK(told[2].now->name_servers == std::vector<std::string>{"ns.other.example"});
    delegations = fx.service().delegations();
    REQUIRE(delegations.size() == 1);
    CHECK(delegations[0]->prefix == *alice.prefix);  // a registered user keeps the prefix
    CHECK(delegations[0]->name_servers == std::vector<std::string>{"ns.other.example"});
  }
  SECTION("kicked, expired or its user deleted: the delegation goes") {
    const int which = GENERATE(0, 1, 2);
    if (which == 0) REQUIRE(fx.service().kick(alice.id, fx.now()));
    if (which == 1) {
      fx.advance(3600);
      REQUIRE(fx.service().expire_idle(fx.now()) == 3);
    }
    if (which == 2) REQUIRE(fx.service().remove_user("alice", fx.now()));
    CHECK(changes == 2);
    CHECK((told.back().prefix == *alice.prefix && told.back().now == nullptr));
    CHECK(fx.service().delegations().empty());
  }
  SECTION("a restart reloads it from the store") {
    fx.restart();
    delegations = fx.service().delegations();
    REQUIRE(delegations.size() == 1);
    CHECK(delegations[0]->prefix == *alice.prefix);
    CHECK(delegations[0]->name_servers == std::vector<std::string>{"ns1.example.net", "NS2.example.net."});
  }
}
