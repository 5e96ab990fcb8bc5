#include "tests/unit/dp_burst_equivalence.hpp"

#include <rte_arp.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <sstream>

namespace tsp::dp::test {

namespace {

const char* side_name(Side s) { return s == Side::Ipv4 ? "IPv4" : "IPv6"; }

std::string describe(const Verdict& v) {
  std::ostringstream out;
  switch (v.kind) {
    case Verdict::Kind::Transmit: out << "transmit on " << side_name(v.out); break;
    case Verdict::Kind::Exception: out << "exception to " << side_name(v.out); break;
    case Verdict::Kind::Drop: out << "drop (" << drop_reason_name(v.reason) << ")"; break;
    case Verdict::Kind::Reassemble: out << "reassemble"; break;
  }
  return out.str();
}

bool same(const Verdict& a, const Verdict& b) {
  if (a.kind != b.kind) return false;
  if (a.kind == Verdict::Kind::Drop) return a.reason == b.reason;
  return a.out == b.out;
}

struct FrameResult {
  Verdict verdict;
  Bytes bytes;
};

// Everything a run leaves behind that the other run must match.
struct RunState {
  std::vector<FrameResult> frames;
  std::vector<std::pair<Side, Bytes>> extra;
  std::vector<uint64_t> counters;  // worker counters, then per-tunnel figures and last-seen stamps
  uint16_t next_ipv4_id = 0;
  uint32_t neighbors = 0;
};

std::vector<uint64_t> counters_of(const PipelineHarness& h) {
  const WorkerCounters& c = h.counters;
  std::vector<uint64_t> v = {c.decap.read(),       c.encap.read(),       c.exception.read(),
                             c.keepalive_replies.read(), c.icmp_errors.read(), c.decap_bytes.read(),
                             c.encap_bytes.read()};
  for (const Counter& d : c.drops) v.push_back(d.read());
  for (uint32_t id = 0; id < c.max_tunnels(); ++id) {
    TunnelStats s;
    c.add_tunnel_stats(id, s);
    v.insert(v.end(), {s.packets_in, s.bytes_in, s.packets_out, s.bytes_out, h.table.last_seen(id)});
  }
  return v;
}

void collect_extra(ExtraPackets& extra, RunState& out) {
  for (unsigned i = 0; i < extra.n; ++i) {
    out.extra.emplace_back(extra.pkt[i].out, to_bytes(extra.pkt[i].m));
    rte_pktmbuf_free(extra.pkt[i].m);
  }
  extra.n = 0;
}

void finish(const PipelineHarness& h, RunState& out) {
  out.counters = counters_of(h);
  out.next_ipv4_id = h.ctx.next_ipv4_id;
  out.neighbors = h.neighbors.size();
}

// The frame in an mbuf as it arrives: its headroom, its checksum verdicts, its segments.
rte_mbuf* arrive(const ArrivingFrame& f) {
  const size_t head_len = f.bytes.size() - std::min<size_t>(f.tail_segment, f.bytes.size());
  rte_mbuf* m = to_mbuf({});
  m->data_off = std::min<uint16_t>(f.headroom, static_cast<uint16_t>(m->buf_len - head_len));
  char* data = rte_pktmbuf_append(m, static_cast<uint16_t>(head_len));
  if (data == nullptr) throw std::runtime_error("arrive: frame does not fit its mbuf");
  if (head_len > 0) std::memcpy(data, f.bytes.data(), head_len);
  if (f.tail_segment > 0) {
    rte_mbuf* tail = to_mbuf(Bytes(f.bytes.begin() + static_cast<std::ptrdiff_t>(head_len), f.bytes.end()));
    if (rte_pktmbuf_chain(m, tail) != 0) throw std::runtime_error("arrive: cannot chain");
  }
  m->ol_flags = f.ol_flags;
  return m;
}

// Budgets of 2, 3 and 2 frames (neighbor, tsp, other), 2 per TSP source; the clock stands
// still, so none refills.
void police(PipelineHarness& h) {
  const ExceptionLimit limits[kExceptionLimitCount] = {{1, 2}, {1, 3}, {1, 2}, {1, 2}};
  h.ctx.policer.configure(limits, 1, 1000, 0);
  h.ctx.now_cycles = 0;
}

RunState run_single(const std::vector<ArrivingFrame>& frames, bool learn_gateways, bool policed) {
  PipelineHarness h;
  if (learn_gateways) h.learn_gateways();
  if (policed) police(h);
  RunState out;
  for (const ArrivingFrame& f : frames) {
    rte_mbuf* m = arrive(f);
    ExtraPackets extra;
    const Verdict v = process_packet(h.ctx, f.side, m, extra);
    out.frames.push_back({v, to_bytes(m)});
    rte_pktmbuf_free(m);
    collect_extra(extra, out);
  }
  finish(h, out);
  return out;
}

RunState run_bursts(const std::vector<ArrivingFrame>& frames, const std::vector<unsigned>& sizes, bool learn_gateways,
                    bool policed) {
  PipelineHarness h;
  if (learn_gateways) h.learn_gateways();
  if (policed) police(h);
  RunState out;
  size_t next = 0, size_index = 0;
  std::vector<rte_mbuf*> pkts;
  std::vector<Verdict> verdicts;
  while (next < frames.size()) {
    const unsigned wanted = std::max(1u, sizes.empty() ? kMaxBurst : sizes[size_index++ % sizes.size()]);
    size_t end = next;
    while (end < frames.size() && end - next < wanted && frames[end].side == frames[next].side) ++end;
    pkts.clear();
    for (size_t i = next; i < end; ++i) pkts.push_back(arrive(frames[i]));
    verdicts.assign(pkts.size(), Verdict{});
    ExtraPackets extra;
    process_burst(h.ctx, frames[next].side, pkts.data(), static_cast<unsigned>(pkts.size()), verdicts.data(), extra);
    for (size_t i = 0; i < pkts.size(); ++i) {
      out.frames.push_back({verdicts[i], to_bytes(pkts[i])});
      rte_pktmbuf_free(pkts[i]);
    }
    collect_extra(extra, out);
    next = end;
  }
  finish(h, out);
  return out;
}

}  // namespace

std::string burst_vs_single(const std::vector<ArrivingFrame>& frames, const std::vector<unsigned>& burst_sizes,
                            bool learn_gateways, bool policed) {
  const RunState single = run_single(frames, learn_gateways, policed);
  const RunState burst = run_bursts(frames, burst_sizes, learn_gateways, policed);
  for (size_t i = 0; i < frames.size(); ++i) {
    const FrameResult& a = single.frames[i];
    const FrameResult& b = burst.frames[i];
    // A dropped frame's bytes are never sent (the caller frees it), and a drop after the
    // front moved into the headroom leaves whatever that mbuf held before: not compared.
    const bool sent = a.verdict.kind != Verdict::Kind::Drop;
    if (!same(a.verdict, b.verdict) || (sent && a.bytes != b.bytes)) {
      return "frame " + std::to_string(i) + " (" + side_name(frames[i].side) + " port): process_packet says " +
             describe(a.verdict) + ", process_burst " + describe(b.verdict) + "\nin:\n" + hex(frames[i].bytes) +
             "\nprocess_packet:\n" + hex(a.bytes) + "\nprocess_burst:\n" + hex(b.bytes);
    }
  }
  // The burst path gathers a burst's requests together: compare them as sets of packets.
  auto sorted = [](std::vector<std::pair<Side, Bytes>> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  if (sorted(single.extra) != sorted(burst.extra)) {
    return "ARP/NS requests differ: " + std::to_string(single.extra.size()) + " by process_packet, " +
           std::to_string(burst.extra.size()) + " by process_burst";
  }
  if (single.counters != burst.counters) {
    for (size_t k = 0; k < single.counters.size(); ++k) {
      if (single.counters[k] != burst.counters[k]) {
        return "counter #" + std::to_string(k) + ": " + std::to_string(single.counters[k]) + " by process_packet, " +
               std::to_string(burst.counters[k]) + " by process_burst";
      }
    }
  }
  if (single.next_ipv4_id != burst.next_ipv4_id) return "next IPv4 id differs";
  if (single.neighbors != burst.neighbors) return "neighbor table sizes differ";
  return "";
}

namespace {

Bytes arp_frame(uint16_t op, const rte_ether_addr& sender_mac, Ipv4Addr sender, Ipv4Addr target) {
  Bytes b = {0, 1, 0x08, 0, 6, 4, 0, static_cast<uint8_t>(op)};
  b.insert(b.end(), sender_mac.addr_bytes, sender_mac.addr_bytes + 6);
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(sender.value >> (24 - 8 * i)));
  b.insert(b.end(), 6, 0);
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(target.value >> (24 - 8 * i)));
  return ethernet(mac("ff:ff:ff:ff:ff:ff"), sender_mac, RTE_ETHER_TYPE_ARP, b);
}

Bytes neighbor_advertisement(const Ipv6Addr& target, const rte_ether_addr& target_mac) {
  Bytes body = {0x60, 0, 0, 0};  // solicited, override
  body.insert(body.end(), target.bytes.begin(), target.bytes.end());
  body.insert(body.end(), {2, 1});
  body.insert(body.end(), target_mac.addr_bytes, target_mac.addr_bytes + 6);
  return uplink_in(icmpv6_packet(target, addrs::broker_v6, 255, 136, 0, body));
}

// A client's frame for `inner` through `tunnel` with its outer IPv4 header edited first;
// `udp_tail`: bytes inside the IPv4 packet after the UDP datagram (v6udpv4 only).
template <typename Edit>
Bytes edited_client_frame(const TunnelEntry& tunnel, const Bytes& inner, Edit&& edit, const Bytes& udp_tail = {}) {
  Ipv4Header h;
  h.src = tunnel.client_v4;
  h.dst = tunnel.server_v4;
  h.id = 7;
  h.proto = tunnel.mode == TunnelMode::V6UDPV4 ? 17 : 41;
  edit(h);
  Bytes payload = inner;
  if (tunnel.mode == TunnelMode::V6UDPV4) payload = concat(udp(tunnel.client_port, tunnel.server_port, inner), udp_tail);
  return ethernet(addrs::v4_port_mac, addrs::v4_gateway_mac, RTE_ETHER_TYPE_IPV4, ipv4(h, payload));
}

// `frame` (Ethernet + option-free IPv4) with the 16-bit field at `offset` into the IPv4
// header set to `value` and the header checksum made right again.
Bytes with_ipv4_field(Bytes frame, size_t offset, uint16_t value) {
  uint8_t* ip = frame.data() + 14;
  ip[offset] = static_cast<uint8_t>(value >> 8);
  ip[offset + 1] = static_cast<uint8_t>(value);
  ip[10] = ip[11] = 0;
  const uint16_t sum = internet_checksum(ip, 20);
  ip[10] = static_cast<uint8_t>(sum >> 8);
  ip[11] = static_cast<uint8_t>(sum);
  return frame;
}

// The edges of decap_fast.hpp's recognition, around one tunnel's ordinary data frame.
void fast_decap_edges(const TunnelEntry& t, const std::function<void(Bytes, uint64_t)>& v4) {
  const Bytes inner = udp6_packet(t.client_v6, addrs::internet_host, 64, 40);
  const Bytes frame = client_frame(t, inner);
  const bool udp_mode = t.mode == TunnelMode::V6UDPV4;
  const size_t inner_at = 14 + 20 + (udp_mode ? 8 : 0);
  auto flags = [&](uint16_t f) { return edited_client_frame(t, inner, [f](Ipv4Header& h) { h.flags_fragment = f; }); };
  v4(flags(0x4000), 0);  // DF: ordinary
  v4(flags(0x8000), 0);  // the reserved bit: not looked at
  v4(flags(0x2000), 0);  // more fragments
  v4(flags(0x0001), 0);  // a later fragment
  v4(flags(0x1000), 0);  // a later fragment, offset's top bit
  v4(concat(frame, Bytes(6, 0)), 0);  // Ethernet padding
  v4(client_frame(t, concat(inner, Bytes{9, 9, 9, 9})), 0);  // bytes after the inner packet
  Bytes bad_sum = frame;
  bad_sum[14 + 10] ^= 0x5A;
  for (uint64_t verdict : {RTE_MBUF_F_RX_IP_CKSUM_GOOD, RTE_MBUF_F_RX_IP_CKSUM_BAD, RTE_MBUF_F_RX_IP_CKSUM_NONE}) {
    v4(frame, verdict);
    v4(bad_sum, verdict);
  }
  v4(frame, RTE_MBUF_F_RX_L4_CKSUM_BAD);
  v4(frame, RTE_MBUF_F_RX_L4_CKSUM_GOOD);
  // Total length: below the header, below the header and an IPv6 header, cutting the inner
  // packet short, beyond the frame.
  const auto total = static_cast<uint16_t>(frame.size() - 14);
  for (uint16_t len : {uint16_t{10}, uint16_t{19}, uint16_t{20}, static_cast<uint16_t>(inner_at - 14 + 39),
                       static_cast<uint16_t>(total - 1), static_cast<uint16_t>(total + 1)}) {
    v4(with_ipv4_field(frame, 2, len), 0);
  }
  v4(with_ipv4_field(frame, 0, 0x4600), 0);  // IHL 6 without the option's bytes
  v4(with_ipv4_field(frame, 0, 0x5500), 0);  // version 5
  v4(with_ipv4_field(frame, 16, 0xC000), 0);  // to 192.0.x.x: another address
  v4(with_ipv4_field(with_ipv4_field(frame, 16, 0xFFFF), 18, 0xFFFF), 0);  // limited broadcast
  Bytes not_ipv4 = frame;
  not_ipv4[12] = 0x86;
  not_ipv4[13] = 0xDD;
  v4(not_ipv4, 0);
  Bytes inner_v4 = frame;
  inner_v4[inner_at] = 0x45;
  v4(inner_v4, 0);
  v4(client_frame(t, udp6_packet(Ipv6Addr::parse("fe80::2").value(), addrs::internet_host, 64, 40)), 0);
  v4(client_frame(t, udp6_packet(t.client_v6, Ipv6Addr::parse("2001:db8:ffff::99").value(), 64, 40)), 0);  // on-link
  v4(client_frame(t, udp6_packet(t.client_v6, Ipv6Addr::parse("febf::1").value(), 64, 40)), 0);  // link-local's edge
  v4(client_frame(t, udp6_packet(t.client_v6, Ipv6Addr::parse("fec0::1").value(), 64, 40)), 0);  // past it
  v4(client_frame(t, icmpv6_packet(t.client_v6, addrs::internet_host, 64, 1, 0, Bytes(8, 0))), 0);
  if (udp_mode) {
    v4(edited_client_frame(t, inner, [](Ipv4Header&) {}, Bytes{7, 7, 7}), 0);  // bytes after the datagram
    Bytes other_port = frame;
    other_port[14 + 20 + 3] ^= 1;
    v4(other_port, 0);
    for (uint16_t len : {uint16_t{7}, uint16_t{8}, uint16_t{8 + 39}, static_cast<uint16_t>(total - 20 + 1)}) {
      Bytes b = frame;
      b[14 + 20 + 4] = static_cast<uint8_t>(len >> 8);
      b[14 + 20 + 5] = static_cast<uint8_t>(len);
      v4(b, 0);
    }
  }
}

// The edges of encap_fast.hpp's recognition and of the straight line after it, around a
// packet from the Internet to one tunnel.
void fast_encap_edges(const TunnelEntry& t, std::vector<ArrivingFrame>& out) {
  auto v6 = [&](Bytes b) { out.push_back({Side::Ipv6, std::move(b)}); };
  const Bytes packet = udp6_packet(addrs::internet_host, t.client_v6, 64, 40);
  const Bytes frame = uplink_in(packet);
  v6(uplink_in(udp6_packet(Ipv6Addr::parse("fe80::1").value(), t.client_v6, 64, 40)));  // link-local source
  v6(uplink_in(udp6_packet(Ipv6Addr::parse("ff02::1").value(), t.client_v6, 64, 40)));  // multicast source
  v6(uplink_in(icmpv6_packet(addrs::internet_host, t.client_v6, 255, 135, 0, Bytes(20, 0))));  // solicitation
  v6(uplink_in(icmpv6_packet(addrs::internet_host, t.client_v6, 255, 136, 0, Bytes(20, 0))));  // advertisement
  v6(uplink_in(icmpv6_packet(addrs::internet_host, t.client_v6, 64, 128, 0, Bytes(8, 0))));    // echo request
  v6(uplink_in(ipv6(addrs::internet_host, t.client_v6, 58, 64, {})));  // ICMPv6 with no message
  v6(concat(frame, Bytes(6, 0)));  // Ethernet padding
  Bytes version5 = frame;
  version5[14] = 0x50;
  v6(version5);
  Bytes other_type = frame;
  other_type[13] = 0xDE;
  v6(other_type);
  Bytes long_payload = frame;
  long_payload[14 + 5] += 1;  // one byte more than the frame holds
  v6(long_payload);
  // Even headrooms only: a NIC places frames at an aligned offset, and header structs need 2.
  for (uint16_t headroom : {uint16_t{0}, uint16_t{8}, uint16_t{26}, uint16_t{28}}) {
    out.push_back({Side::Ipv6, frame, 0, headroom});
  }
  out.push_back({Side::Ipv6, concat(frame, Bytes(6, 0)), 0, RTE_PKTMBUF_HEADROOM, 6});  // padding in a segment
  out.push_back({Side::Ipv6, frame, 0, RTE_PKTMBUF_HEADROOM, 20});  // the packet's end in a segment
}

Ipv6Addr inside(const TunnelEntry& t) {
  Ipv6Addr a = t.prefix;
  a.bytes[15] = 0x42;
  return a;
}

}  // namespace

std::vector<ArrivingFrame> frame_catalog() {
  std::vector<ArrivingFrame> out;
  auto v4 = [&](Bytes b) { out.push_back({Side::Ipv4, std::move(b)}); };
  auto v6 = [&](Bytes b) { out.push_back({Side::Ipv6, std::move(b)}); };
  const Bytes data = {1, 2, 3, 4, 5, 6, 7, 8};
  const std::vector<TunnelEntry> all = tunnels::all();
  for (const TunnelEntry& t : all) {
    // From the client.
    v4(client_frame(t, udp6_packet(t.client_v6, addrs::internet_host, 64, 40)));
    if (t.has_prefix()) v4(client_frame(t, udp6_packet(inside(t), addrs::internet_host, 64, 40)));
    v4(client_frame(t, echo_request(t.client_v6, t.server_v6, 7, 1, data)));
    v4(client_frame(t, udp6_packet(t.client_v6, addrs::internet_host, 1, 40)));                  // hop limit 1
    v4(client_frame(t, udp6_packet(addrs::internet_host, addrs::internet_host, 64, 40)));         // spoofed source
    v4(client_frame(t, udp6_packet(t.client_v6, addrs::broker_v6, 64, 40)));                     // for the broker
    v4(client_frame(t, udp6_packet(t.client_v6, Ipv6Addr::parse("ff02::1").value(), 64, 8)));   // multicast
    v4(client_frame(t, udp6_packet(t.client_v6, Ipv6Addr::parse("fe80::9").value(), 64, 8)));   // link-local
    for (const TunnelEntry& other : all) {
      if (other.id != t.id) v4(client_frame(t, udp6_packet(t.client_v6, other.client_v6, 64, 16)));  // a loop
    }
    Bytes bad_sum = client_frame(t, udp6_packet(t.client_v6, addrs::internet_host, 64, 40));
    bad_sum[14 + 10] ^= 0x5A;
    v4(bad_sum);
    // From the Internet.
    v6(uplink_in(udp6_packet(addrs::internet_host, t.client_v6, 64, 40)));
    if (t.has_prefix()) v6(uplink_in(udp6_packet(addrs::internet_host, inside(t), 64, 40)));
    v6(uplink_in(udp6_packet(addrs::internet_host, t.client_v6, 1, 40)));    // hop limit 1
    v6(uplink_in(udp6_packet(addrs::internet_host, t.client_v6, 64, 1400)));  // too big
    v6(uplink_in(udp6_packet(all.front().client_v6, t.client_v6, 64, 40)));   // a client's source from outside
  }
  // Fragments, options, the kernel's traffic, neighbors.
  {
    const TunnelEntry t = tunnels::proto41_host();
    Ipv4Header h;
    h.src = t.client_v4;
    h.dst = addrs::broker_v4;
    h.flags_fragment = 0x2000;
    v4(ethernet(addrs::v4_port_mac, addrs::v4_gateway_mac, RTE_ETHER_TYPE_IPV4,
                ipv4(h, udp6_packet(t.client_v6, addrs::internet_host, 64, 40))));
    h.flags_fragment = 0;
    h.options = {1, 1, 1, 0};  // NOPs and an end of options
    v4(ethernet(addrs::v4_port_mac, addrs::v4_gateway_mac, RTE_ETHER_TYPE_IPV4,
                ipv4(h, udp6_packet(t.client_v6, addrs::internet_host, 64, 40))));
    h.options.clear();
    h.proto = 6;  // TCP to the broker: the kernel's
    v4(ethernet(addrs::v4_port_mac, addrs::v4_gateway_mac, RTE_ETHER_TYPE_IPV4, ipv4(h, Bytes(20, 0))));
  }
  const TunnelEntry on_link = tunnels::proto41_on_link();
  v4(arp_frame(1, addrs::client_lan_mac, on_link.client_v4, addrs::broker_v4));
  v4(arp_frame(2, mac("02:00:00:00:99:01"), addrs::v4_gateway, addrs::broker_v4));  // the gateway moves
  v4(arp_frame(2, addrs::v4_gateway_mac, addrs::v4_gateway, addrs::broker_v4));     // and back
  v6(neighbor_advertisement(addrs::v6_gateway, mac("02:00:00:00:99:02")));
  v6(neighbor_advertisement(addrs::v6_gateway, addrs::v6_gateway_mac));
  v6(ethernet(addrs::v6_port_mac, addrs::v6_gateway_mac, 0x88CC, Bytes(46, 0)));  // LLDP
  auto v4_flagged = [&](Bytes b, uint64_t ol_flags) { out.push_back({Side::Ipv4, std::move(b), ol_flags}); };
  fast_decap_edges(tunnels::proto41_host(), v4_flagged);
  fast_decap_edges(tunnels::udp_slash48(), v4_flagged);
  for (const TunnelEntry& t : {tunnels::proto41_host(), tunnels::udp_slash48()}) {
    fast_encap_edges(t, out);
    // A client's frame with no headroom, in segments.
    const Bytes frame = client_frame(t, udp6_packet(t.client_v6, addrs::internet_host, 64, 40));
    out.push_back({Side::Ipv4, frame, 0, 0});
    out.push_back({Side::Ipv4, concat(frame, Bytes(6, 0)), 0, RTE_PKTMBUF_HEADROOM, 6});
    out.push_back({Side::Ipv4, frame, 0, RTE_PKTMBUF_HEADROOM, 30});
  }
  // Truncations of the first tunnel frame of each side.
  const Bytes whole4 = out.front().bytes;
  const Bytes whole6 = uplink_in(udp6_packet(addrs::internet_host, tunnels::proto41_host().client_v6, 64, 40));
  for (size_t len : {0, 13, 14, 33, 34, 53, 54, 60, 73, 93}) {
    v4(Bytes(whole4.begin(), whole4.begin() + static_cast<std::ptrdiff_t>(std::min(len, whole4.size()))));
    v6(Bytes(whole6.begin(), whole6.begin() + static_cast<std::ptrdiff_t>(std::min(len, whole6.size()))));
  }
  return out;
}

}  // namespace tsp::dp::test
