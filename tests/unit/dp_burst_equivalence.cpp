#include "tests/unit/dp_burst_equivalence.hpp"

#include <rte_arp.h>

#include <algorithm>
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

RunState run_single(const std::vector<ArrivingFrame>& frames, bool learn_gateways) {
  PipelineHarness h;
  if (learn_gateways) h.learn_gateways();
  RunState out;
  for (const ArrivingFrame& f : frames) {
    rte_mbuf* m = to_mbuf(f.bytes);
    ExtraPackets extra;
    const Verdict v = process_packet(h.ctx, f.side, m, extra);
    out.frames.push_back({v, to_bytes(m)});
    rte_pktmbuf_free(m);
    collect_extra(extra, out);
  }
  finish(h, out);
  return out;
}

RunState run_bursts(const std::vector<ArrivingFrame>& frames, const std::vector<unsigned>& sizes, bool learn_gateways) {
  PipelineHarness h;
  if (learn_gateways) h.learn_gateways();
  RunState out;
  size_t next = 0, size_index = 0;
  std::vector<rte_mbuf*> pkts;
  std::vector<Verdict> verdicts;
  while (next < frames.size()) {
    const unsigned wanted = std::max(1u, sizes.empty() ? kMaxBurst : sizes[size_index++ % sizes.size()]);
    size_t end = next;
    while (end < frames.size() && end - next < wanted && frames[end].side == frames[next].side) ++end;
    pkts.clear();
    for (size_t i = next; i < end; ++i) pkts.push_back(to_mbuf(frames[i].bytes));
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
                            bool learn_gateways) {
  const RunState single = run_single(frames, learn_gateways);
  const RunState burst = run_bursts(frames, burst_sizes, learn_gateways);
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
