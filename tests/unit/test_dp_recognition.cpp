// The burst path's one-look recognition of ordinary frames (dataplane/decap_fast.hpp for tunnel
// data from clients, encap_fast.hpp for packets from the uplink). test_dp_pipeline_burst shows
// that the burst path gives the reference path's results on every frame; a recognition that
// refused too much would pass it too, only slower, and some refusals (a multicast destination,
// the broker's own) only save a lookup that finds nothing. These cases pin down which frames
// each takes, what it reads from them, and the checksum.
#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include "dataplane/addr_match.hpp"
#include "dataplane/checksum.hpp"
#include "dataplane/decap_fast.hpp"
#include "dataplane/encap_fast.hpp"
#include "tests/unit/dp_test_support.hpp"

using namespace tsp;
using namespace tsp::dp;
using namespace tsp::dp::test;

namespace {

struct Recognised {
  bool fast = false;
  FastDecapFrame frame{};
  ptrdiff_t ip_at = -1;  // where frame.ip points in the frame, while it was there
};

Recognised recognise(const DataplaneConfig& cfg, const Bytes& bytes, uint64_t ol_flags = 0) {
  rte_mbuf* m = to_mbuf(bytes);
  m->ol_flags = ol_flags;
  Recognised r;
  r.fast = recognise_fast_decap(FastDecapConfig(cfg), m, r.frame);
  if (r.fast) r.ip_at = r.frame.ip - rte_pktmbuf_mtod(m, uint8_t*);
  r.frame.ip = nullptr;  // the mbuf goes now
  rte_pktmbuf_free(m);
  return r;
}

Bytes with_byte(Bytes b, size_t at, uint8_t value) {
  b[at] = value;
  return b;
}

// `t`'s frame for `inner` with these flags and fragment offset in its outer header.
Bytes with_flags(const TunnelEntry& t, const Bytes& inner, uint16_t flags_fragment) {
  Ipv4Header h;
  h.src = t.client_v4;
  h.dst = t.server_v4;
  h.proto = t.mode == TunnelMode::V6UDPV4 ? 17 : 41;
  h.flags_fragment = flags_fragment;
  const Bytes payload = t.mode == TunnelMode::V6UDPV4 ? udp(t.client_port, t.server_port, inner) : inner;
  return ethernet(addrs::v4_port_mac, addrs::v4_gateway_mac, RTE_ETHER_TYPE_IPV4, ipv4(h, payload));
}

// A frame as it arrives, with the NIC's checksum verdicts.
struct FrameCase {
  const char* name;
  Bytes bytes;
  uint64_t ol_flags;
};

Bytes with_bad_header_checksum(Bytes frame) {
  frame[14 + 10] ^= 0x5A;
  return frame;
}

Bytes frame_to(const TunnelEntry& t, const char* inner_dst) {
  return client_frame(t, udp6_packet(t.client_v6, Ipv6Addr::parse(inner_dst).value(), 64, 40));
}

}  // namespace

TEST_CASE("decap_fast: the ordinary frames are taken, with their key and inner packet", "[dp][decap_fast]") {
  const DataplaneConfig cfg = test_config();
  for (const TunnelEntry& t : {tunnels::proto41_host(), tunnels::udp_slash48()}) {
    const bool udp_mode = t.mode == TunnelMode::V6UDPV4;
    const Bytes inner = udp6_packet(t.client_v6, addrs::internet_host, 64, 40);
    const Bytes frame = client_frame(t, inner);
    const uint32_t inner_at = udp_mode ? 42 : 34;
    const Bytes bad_sum = with_bad_header_checksum(frame);
    const std::vector<FrameCase> cases = {
        {"ordinary", frame, 0},
        {"DF and the reserved bit set", with_flags(t, inner, 0xC000), 0},
        {"Ethernet padding", concat(frame, Bytes(6, 0)), 0},
        {"a bad sum the NIC calls good", bad_sum, RTE_MBUF_F_RX_IP_CKSUM_GOOD},
        {"a bad sum the NIC verified otherwise", bad_sum, RTE_MBUF_F_RX_IP_CKSUM_NONE},
        {"a site-local destination (fec0::/10 is not link-local)", frame_to(t, "fec0::1"), 0},
        {"a destination beside the broker's /64", frame_to(t, "2001:db8:fffe::1"), 0},
    };
    for (const FrameCase& c : cases) {
      INFO(describe(t) << ": " << c.name);
      const Recognised r = recognise(cfg, c.bytes, c.ol_flags);
      REQUIRE(r.fast);
      CHECK(r.frame.decap_key == TunnelTable::decap_key(t.mode, t.client_v4.value, udp_mode ? t.client_port : 0));
      CHECK(r.frame.ip_offset == inner_at);
      CHECK(r.ip_at == inner_at);
      CHECK(r.frame.ip_len == 40 + 8 + 40);
    }
    // Trailing bytes inside the IPv4 packet (or the datagram) after the inner packet.
    const Recognised r = recognise(cfg, client_frame(t, concat(inner, Bytes{9, 9, 9, 9})));
    REQUIRE(r.fast);
    CHECK(r.frame.ip_len == 40 + 8 + 40);
  }
}

TEST_CASE("decap_fast: everything else is left to the reference path", "[dp][decap_fast]") {
  const DataplaneConfig cfg = test_config();
  for (const TunnelEntry& t : {tunnels::proto41_host(), tunnels::udp_slash48()}) {
    const Bytes inner = udp6_packet(t.client_v6, addrs::internet_host, 64, 40);
    const Bytes frame = client_frame(t, inner);
    const size_t inner_at = t.mode == TunnelMode::V6UDPV4 ? 42 : 34;
    const Bytes bad_sum = with_bad_header_checksum(frame);
    const std::vector<FrameCase> cases = {
        {"a bad header checksum", bad_sum, 0},
        {"a header the NIC calls bad", frame, RTE_MBUF_F_RX_IP_CKSUM_BAD},
        {"a datagram the NIC calls bad", frame, RTE_MBUF_F_RX_L4_CKSUM_BAD},
        {"cut one byte short", Bytes(frame.begin(), frame.end() - 1), 0},
        {"an inner source that is link-local", client_frame(t, udp6_packet(Ipv6Addr::parse("fe80::2").value(),
                                                                           addrs::internet_host, 64, 40)), 0},
        {"a link-local destination at the edge of fe80::/10", frame_to(t, "febf::1"), 0},
        {"a multicast destination", frame_to(t, "ff0e::1"), 0},
        {"an on-link destination", frame_to(t, "2001:db8:ffff::99"), 0},
        {"hop limit 1", client_frame(t, udp6_packet(t.client_v6, addrs::internet_host, 1, 40)), 0},
        {"ICMPv6", client_frame(t, icmpv6_packet(t.client_v6, addrs::internet_host, 64, 1, 0, Bytes(8, 0))), 0},
        {"inner version 4", with_byte(frame, inner_at, 0x45), 0},
        {"more fragments", with_flags(t, inner, 0x2000), 0},
        {"a later fragment", with_flags(t, inner, 0x1000), 0},
    };
    for (const FrameCase& c : cases) {
      INFO(describe(t) << ": " << c.name);
      // A datagram checksum verdict only matters to UDP.
      const bool expect_fast = c.ol_flags == RTE_MBUF_F_RX_L4_CKSUM_BAD && t.mode == TunnelMode::V6V4;
      CHECK(recognise(cfg, c.bytes, c.ol_flags).fast == expect_fast);
    }
  }

  SECTION("an on-link prefix longer than /64") {
    DataplaneConfig narrow = test_config();
    narrow.ipv6_prefix_len = 120;
    const TunnelEntry t = tunnels::proto41_host();
    CHECK_FALSE(recognise(narrow, frame_to(t, "2001:db8:ffff::42")).fast);
    CHECK(recognise(narrow, frame_to(t, "2001:db8:ffff::1:42")).fast);
  }

  SECTION("a frame in two segments, even with all of its packet in the first") {
    const TunnelEntry t = tunnels::proto41_host();
    const Bytes frame = client_frame(t, udp6_packet(t.client_v6, addrs::internet_host, 64, 40));
    rte_mbuf* head = to_mbuf(frame);
    REQUIRE(rte_pktmbuf_chain(head, to_mbuf(Bytes(6, 0))) == 0);  // padding in a segment of its own
    FastDecapFrame out{};
    CHECK_FALSE(recognise_fast_decap(FastDecapConfig(cfg), head, out));
    rte_pktmbuf_free(head);
  }
}

TEST_CASE("ipv4_option_free_header_ok agrees with the reference sum", "[dp][decap_fast]") {
  std::mt19937_64 rng(7);
  rte_ipv4_hdr h;
  auto* bytes = reinterpret_cast<uint8_t*>(&h);
  for (int i = 0; i < 200000; ++i) {
    for (size_t k = 0; k < sizeof h; ++k) bytes[k] = static_cast<uint8_t>(rng());
    h.version_ihl = RTE_IPV4_VHL_DEF;
    if (i % 2 == 0) {  // a right sum, or one bit off it
      h.hdr_checksum = 0;
      h.hdr_checksum = static_cast<uint16_t>(~rte_raw_cksum(&h, sizeof h));
      if (i % 4 == 0) bytes[rng() % sizeof h] ^= static_cast<uint8_t>(1u << (rng() % 8));
    }
    const bool expected = rte_raw_cksum(&h, sizeof h) == 0xFFFF;
    if (ipv4_option_free_header_ok(bytes) != expected) {
      FAIL("header " << hex(Bytes(bytes, bytes + sizeof h)) << ": reference says " << expected);
    }
  }
  // Sums that carry out of every word.
  std::memset(&h, 0xFF, sizeof h);
  CHECK(ipv4_option_free_header_ok(bytes));
  h.hdr_checksum = 0xFEFF;  // one less in the last word: 0xFFFE
  CHECK_FALSE(ipv4_option_free_header_ok(bytes));
  // All zeros: a sum of 0, which is a multiple of 0xFFFF but not a valid checksum.
  std::memset(&h, 0, sizeof h);
  CHECK_FALSE(ipv4_option_free_header_ok(bytes));
}

TEST_CASE("ipv4_header_checksum_of agrees with rte_ipv4_cksum", "[dp][encap_fast]") {
  std::mt19937_64 rng(11);
  auto check = [](uint16_t total_length, uint16_t id, uint16_t fragment, uint8_t ttl, uint8_t proto, uint32_t src,
                  uint32_t dst) {
    rte_ipv4_hdr h{};
    h.version_ihl = RTE_IPV4_VHL_DEF;
    h.total_length = be16(total_length);
    h.packet_id = be16(id);
    h.fragment_offset = be16(fragment);
    h.time_to_live = ttl;
    h.next_proto_id = proto;
    h.src_addr = be32(src);
    h.dst_addr = be32(dst);
    const uint16_t ours = ipv4_header_checksum_of(total_length, id, fragment, ttl, proto, src, dst);
    if (ours != rte_ipv4_cksum(&h)) {
      FAIL("fields " << total_length << " " << id << " " << fragment << " " << int{ttl} << " " << int{proto} << " "
                     << src << " " << dst << ": " << ours << " != " << rte_ipv4_cksum(&h));
    }
  };
  for (int i = 0; i < 200000; ++i) {
    check(static_cast<uint16_t>(rng()), static_cast<uint16_t>(rng()), static_cast<uint16_t>(rng()),
          static_cast<uint8_t>(rng()), static_cast<uint8_t>(rng()), static_cast<uint32_t>(rng()),
          static_cast<uint32_t>(rng()));
  }
  // Every word at its largest, and sums that land exactly on 0xFFFF.
  check(0xFFFF, 0xFFFF, 0xFFFF, 0xFF, 0xFF, 0xFFFFFFFF, 0xFFFFFFFF);
  check(0, 0, 0, 0, 0, 0, 0xBAFF);
  check(0, 0, 0, 0, 0, 0xFFFF0000, 0x0000BAFF);
}

TEST_CASE("FastEncapConfig::on_link and ipv4_in_subnet: the first len bits, at every prefix length",
          "[dp][encap_fast]") {
  std::mt19937_64 rng(13);
  DataplaneConfig cfg = test_config();
  // The definition, bit by bit from the top.
  auto same_first_bits = [](uint32_t a, uint32_t b, unsigned len) {
    for (unsigned bit = 0; bit < len && bit < 32; ++bit) {
      if (((a >> (31 - bit)) & 1) != ((b >> (31 - bit)) & 1)) return false;
    }
    return true;
  };
  for (unsigned len = 0; len <= 32; ++len) {
    cfg.ipv4_prefix_len = len;
    const FastEncapConfig fast(cfg);
    for (int i = 0; i < 2000; ++i) {
      // Addresses near the broker's (one bit flipped) and anywhere.
      const uint32_t flip = uint32_t{1} << (rng() % 32);
      const Ipv4Addr a{i % 2 == 0 ? (cfg.ipv4_address.value ^ flip) : static_cast<uint32_t>(rng())};
      const bool expected = same_first_bits(a.value, cfg.ipv4_address.value, len);
      if (fast.on_link(a) != expected || ipv4_in_subnet(a, cfg.ipv4_address, len) != expected) {
        FAIL("/" << len << " " << a.to_string() << ": expected " << expected << ", on_link " << fast.on_link(a)
                 << ", ipv4_in_subnet " << ipv4_in_subnet(a, cfg.ipv4_address, len));
      }
    }
    CHECK(fast.on_link(cfg.ipv4_address));
  }
}

TEST_CASE("encap_fast: what it takes from the uplink and what it leaves to the reference path", "[dp][encap_fast]") {
  const FastEncapConfig cfg(test_config());
  const TunnelEntry t = tunnels::proto41_host();
  auto length_of = [&](const Bytes& frame) {
    rte_mbuf* m = to_mbuf(frame);
    const uint32_t len = recognise_fast_encap(cfg, m);
    rte_pktmbuf_free(m);
    return len;
  };
  auto to = [&](const char* dst) { return uplink_in(udp6_packet(addrs::internet_host, Ipv6Addr::parse(dst).value(), 64, 40)); };
  const Bytes frame = uplink_in(udp6_packet(addrs::internet_host, t.client_v6, 64, 40));

  CHECK(length_of(frame) == 88);
  CHECK(length_of(concat(frame, Bytes(6, 0))) == 88);  // Ethernet padding
  CHECK(length_of(uplink_in(icmpv6_packet(addrs::internet_host, t.client_v6, 64, 128, 0, Bytes(8, 0)))) == 52);
  CHECK(length_of(to("fec0::1")) == 88);           // site-local is not link-local
  CHECK(length_of(to("2001:db8:ffff::2")) == 88);  // beside the broker's address

  CHECK(length_of(to("2001:db8:ffff::1")) == 0);  // the broker's
  CHECK(length_of(to("fe80::1")) == 0);
  CHECK(length_of(to("febf::1")) == 0);
  CHECK(length_of(to("ff0e::1")) == 0);
  CHECK(length_of(uplink_in(udp6_packet(Ipv6Addr::parse("febf::1").value(), t.client_v6, 64, 40))) == 0);
  CHECK(length_of(uplink_in(udp6_packet(Ipv6Addr::parse("ff02::1").value(), t.client_v6, 64, 40))) == 0);
  CHECK(length_of(uplink_in(udp6_packet(addrs::internet_host, t.client_v6, 1, 40))) == 0);
  CHECK(length_of(uplink_in(icmpv6_packet(addrs::internet_host, t.client_v6, 255, 135, 0, Bytes(20, 0)))) == 0);
  CHECK(length_of(uplink_in(icmpv6_packet(addrs::internet_host, t.client_v6, 255, 136, 0, Bytes(20, 0)))) == 0);
  CHECK(length_of(Bytes(frame.begin(), frame.end() - 1)) == 0);
  CHECK(length_of(with_byte(frame, 14, 0x40)) == 0);  // version 4
  CHECK(length_of(with_byte(frame, 13, 0xDE)) == 0);  // another ethertype
}
