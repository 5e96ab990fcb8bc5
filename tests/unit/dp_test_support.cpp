#include "tests/unit/dp_test_support.hpp"

#include <rte_eal.h>
#include <rte_errno.h>
#include <sched.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace tsp::dp::test {

namespace {

// "0@(0,1,...)": the main lcore may run on every CPU this process may use, so the test is not
// pinned to one core of a busy machine.
std::string main_lcore_on_allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::string cpus;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (!CPU_ISSET(cpu, &set)) continue;
      if (!cpus.empty()) cpus += ",";
      cpus += std::to_string(cpu);
    }
  }
  return "--lcores=0@(" + (cpus.empty() ? std::string("0") : cpus) + ")";
}

// No --in-memory: DPDK 22.11 treats --no-huge as legacy memory, which it refuses to combine
// with --in-memory. --no-shconf alone keeps test processes from sharing any file.
rte_mempool* start_eal_and_pool() {
  static std::vector<std::string> args = {
      "tsp-dp-test", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
      "--no-telemetry", "--log-level=lib.*:error", main_lcore_on_allowed_cpus()};
  static std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
    throw std::runtime_error(std::string("rte_eal_init: ") + rte_strerror(rte_errno));
  }
  rte_mempool* pool = rte_pktmbuf_pool_create("dp_test_pool", 2047, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (pool == nullptr) throw std::runtime_error(std::string("rte_pktmbuf_pool_create: ") + rte_strerror(rte_errno));
  return pool;
}

void put16(Bytes& b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v);
}

void append16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}

void append(Bytes& b, const uint8_t* data, size_t len) { b.insert(b.end(), data, data + len); }

TunnelEntry proto41(uint32_t id, const char* client_v4, const char* client_v6) {
  TunnelEntry e;
  e.id = id;
  e.mode = TunnelMode::V6V4;
  e.client_v4 = v4(client_v4);
  e.server_v4 = addrs::broker_v4;
  e.client_v6 = v6(client_v6);
  e.server_v6 = v6("2001:db8:f001:1::1");
  return e;
}

TunnelEntry over_udp(uint32_t id, const char* client_v4, uint16_t port, const char* client_v6) {
  TunnelEntry e = proto41(id, client_v4, client_v6);
  e.mode = TunnelMode::V6UDPV4;
  e.client_port = port;
  e.server_port = 3653;
  return e;
}

}  // namespace

rte_mempool* test_pool() {
  static rte_mempool* pool = start_eal_and_pool();
  return pool;
}

rte_mbuf* to_mbuf(const Bytes& frame) {
  rte_mbuf* m = rte_pktmbuf_alloc(test_pool());
  if (m == nullptr) throw std::runtime_error("to_mbuf: pool empty");
  char* data = rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size()));
  if (data == nullptr) {
    rte_pktmbuf_free(m);
    throw std::runtime_error("to_mbuf: frame of " + std::to_string(frame.size()) + " bytes does not fit");
  }
  if (!frame.empty()) std::memcpy(data, frame.data(), frame.size());
  return m;
}

Bytes to_bytes(const rte_mbuf* m) {
  Bytes out;
  for (const rte_mbuf* seg = m; seg != nullptr; seg = seg->next) {
    const auto* data = rte_pktmbuf_mtod(seg, const uint8_t*);
    out.insert(out.end(), data, data + seg->data_len);
  }
  return out;
}

Ipv4Addr v4(const char* text) {
  const auto a = Ipv4Addr::parse(text);
  if (!a) throw std::invalid_argument(std::string("bad IPv4 address in a test: ") + text);
  return *a;
}

Ipv6Addr v6(const char* text) {
  const auto a = Ipv6Addr::parse(text);
  if (!a) throw std::invalid_argument(std::string("bad IPv6 address in a test: ") + text);
  return *a;
}

rte_ether_addr mac(const char* text) {
  rte_ether_addr m{};
  unsigned b[6];
  if (std::sscanf(text, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6) {
    throw std::invalid_argument(std::string("bad MAC in a test: ") + text);
  }
  for (int i = 0; i < 6; ++i) m.addr_bytes[i] = static_cast<uint8_t>(b[i]);
  return m;
}

uint16_t internet_checksum(const uint8_t* data, size_t len, uint32_t initial_sum) {
  uint64_t sum = initial_sum;
  for (size_t i = 0; i + 1 < len; i += 2) sum += static_cast<uint32_t>(data[i] << 8 | data[i + 1]);
  if (len % 2 != 0) sum += static_cast<uint32_t>(data[len - 1] << 8);
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

uint32_t ipv6_pseudo_sum(const Ipv6Addr& src, const Ipv6Addr& dst, uint32_t len, uint8_t next_header) {
  uint32_t sum = 0;
  for (size_t i = 0; i < 16; i += 2) {
    sum += static_cast<uint32_t>(src.bytes[i] << 8 | src.bytes[i + 1]);
    sum += static_cast<uint32_t>(dst.bytes[i] << 8 | dst.bytes[i + 1]);
  }
  return sum + (len >> 16) + (len & 0xFFFF) + next_header;
}

Bytes ethernet(const rte_ether_addr& dst, const rte_ether_addr& src, uint16_t ether_type, const Bytes& payload) {
  Bytes b;
  append(b, dst.addr_bytes, 6);
  append(b, src.addr_bytes, 6);
  append16(b, ether_type);
  append(b, payload.data(), payload.size());
  return b;
}

Bytes ipv4(const Ipv4Header& h, const Bytes& payload) {
  const size_t header_len = 20 + h.options.size();
  Bytes b(header_len);
  b[0] = static_cast<uint8_t>(0x40 | (header_len / 4));
  b[1] = h.tos;
  put16(b, 2, static_cast<uint16_t>(header_len + payload.size()));
  put16(b, 4, h.id);
  put16(b, 6, h.flags_fragment);
  b[8] = h.ttl;
  b[9] = h.proto;
  for (int i = 0; i < 4; ++i) {
    b[12 + i] = static_cast<uint8_t>(h.src.value >> (24 - 8 * i));
    b[16 + i] = static_cast<uint8_t>(h.dst.value >> (24 - 8 * i));
  }
  std::copy(h.options.begin(), h.options.end(), b.begin() + 20);
  put16(b, 10, internet_checksum(b.data(), header_len));
  append(b, payload.data(), payload.size());
  return b;
}

Bytes udp(uint16_t src_port, uint16_t dst_port, const Bytes& payload) {
  Bytes b;
  append16(b, src_port);
  append16(b, dst_port);
  append16(b, static_cast<uint16_t>(8 + payload.size()));
  append16(b, 0);
  append(b, payload.data(), payload.size());
  return b;
}

Bytes ipv6(const Ipv6Addr& src, const Ipv6Addr& dst, uint8_t next_header, uint8_t hop_limit, const Bytes& payload) {
  Bytes b = {0x60, 0, 0, 0};
  append16(b, static_cast<uint16_t>(payload.size()));
  b.push_back(next_header);
  b.push_back(hop_limit);
  append(b, src.bytes.data(), 16);
  append(b, dst.bytes.data(), 16);
  append(b, payload.data(), payload.size());
  return b;
}

Bytes icmpv6_packet(const Ipv6Addr& src, const Ipv6Addr& dst, uint8_t hop_limit, uint8_t type, uint8_t code,
                    const Bytes& body) {
  Bytes msg = {type, code, 0, 0};
  append(msg, body.data(), body.size());
  const auto len = static_cast<uint32_t>(msg.size());
  put16(msg, 2, internet_checksum(msg.data(), msg.size(), ipv6_pseudo_sum(src, dst, len, 58)));
  return ipv6(src, dst, 58, hop_limit, msg);
}

Bytes echo_request(const Ipv6Addr& src, const Ipv6Addr& dst, uint16_t ident, uint16_t seq, const Bytes& data,
                   uint8_t hop_limit) {
  Bytes body;
  append16(body, ident);
  append16(body, seq);
  append(body, data.data(), data.size());
  return icmpv6_packet(src, dst, hop_limit, 128, 0, body);
}

Bytes echo_reply(const Ipv6Addr& src, const Ipv6Addr& dst, uint16_t ident, uint16_t seq, const Bytes& data,
                 uint8_t hop_limit) {
  Bytes body;
  append16(body, ident);
  append16(body, seq);
  append(body, data.data(), data.size());
  return icmpv6_packet(src, dst, hop_limit, 129, 0, body);
}

Bytes udp6_packet(const Ipv6Addr& src, const Ipv6Addr& dst, uint8_t hop_limit, size_t payload_len) {
  Bytes seg;
  append16(seg, 1234);
  append16(seg, 80);
  append16(seg, static_cast<uint16_t>(8 + payload_len));
  append16(seg, 0);
  for (size_t i = 0; i < payload_len; ++i) seg.push_back(static_cast<uint8_t>(i * 7 + 3));
  const auto len = static_cast<uint32_t>(seg.size());
  put16(seg, 6, internet_checksum(seg.data(), seg.size(), ipv6_pseudo_sum(src, dst, len, 17)));
  return ipv6(src, dst, 17, hop_limit, seg);
}

Bytes icmpv6_error(const Ipv6Addr& src, const Ipv6Addr& dst, uint8_t type, uint8_t code, uint32_t param,
                   const Bytes& invoking) {
  Bytes body;
  append16(body, static_cast<uint16_t>(param >> 16));
  append16(body, static_cast<uint16_t>(param));
  const size_t quote = std::min<size_t>(invoking.size(), 1280 - 48);
  append(body, invoking.data(), quote);
  return icmpv6_packet(src, dst, 64, type, code, body);
}

bool ipv6_l4_checksum_ok(const Bytes& packet) {
  if (packet.size() < 40) return false;
  Ipv6Addr src, dst;
  std::copy(packet.begin() + 8, packet.begin() + 24, src.bytes.begin());
  std::copy(packet.begin() + 24, packet.begin() + 40, dst.bytes.begin());
  const auto len = static_cast<uint32_t>(packet.size() - 40);
  return internet_checksum(packet.data() + 40, len, ipv6_pseudo_sum(src, dst, len, packet[6])) == 0;
}

Bytes concat(const Bytes& a, const Bytes& b) {
  Bytes out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

Bytes with_hop_limit(Bytes ipv6_packet, uint8_t hop_limit) {
  if (ipv6_packet.size() < 40) throw std::invalid_argument("with_hop_limit: not an IPv6 packet");
  ipv6_packet[7] = hop_limit;
  return ipv6_packet;
}

std::string hex(const Bytes& bytes) {
  std::string out;
  char buf[4];
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::snprintf(buf, sizeof(buf), "%02x", bytes[i]);
    out += buf;
    out += (i % 16 == 15) ? "\n" : " ";
  }
  return out;
}

namespace addrs {
const rte_ether_addr v4_port_mac = mac("02:00:00:00:44:01");
const rte_ether_addr v6_port_mac = mac("02:00:00:00:66:01");
const rte_ether_addr v4_gateway_mac = mac("02:00:00:00:44:fe");
const rte_ether_addr v6_gateway_mac = mac("02:00:00:00:66:fe");
const rte_ether_addr client_lan_mac = mac("02:00:00:00:44:50");
const Ipv4Addr broker_v4 = v4("192.0.2.1");
const Ipv4Addr v4_gateway = v4("192.0.2.254");
const Ipv6Addr broker_v6 = v6("2001:db8:ffff::1");
const Ipv6Addr v6_gateway = v6("fe80::1");
const Ipv6Addr internet_host = v6("2001:db8:beef::1");
}  // namespace addrs

DataplaneConfig test_config() {
  DataplaneConfig cfg;
  cfg.ipv4_port = "test_v4";
  cfg.ipv6_port = "test_v6";
  cfg.ipv4_address = addrs::broker_v4;
  cfg.ipv4_prefix_len = 24;
  cfg.ipv4_gateway = addrs::v4_gateway;
  cfg.ipv6_address = addrs::broker_v6;
  cfg.ipv6_prefix_len = 64;
  cfg.ipv6_gateway = addrs::v6_gateway;
  cfg.udp_port = 3653;
  cfg.max_tunnels = 64;
  return cfg;
}

namespace tunnels {
TunnelEntry proto41_host() { return proto41(1, "198.51.100.10", "2001:db8:f001:1::2"); }
TunnelEntry proto41_slash64() {
  TunnelEntry e = proto41(2, "198.51.100.20", "2001:db8:f001:1::4");
  e.prefix = v6("2001:db8:20:1::");
  e.prefix_len = 64;
  return e;
}
TunnelEntry udp_slash48() {
  TunnelEntry e = over_udp(3, "203.0.113.30", 40000, "2001:db8:f001:1::6");
  e.prefix = v6("2001:db8:30::");
  e.prefix_len = 48;
  return e;
}
TunnelEntry udp_host() { return over_udp(4, "203.0.113.40", 50000, "2001:db8:f001:1::8"); }
TunnelEntry proto41_on_link() { return proto41(5, "192.0.2.50", "2001:db8:f001:1::a"); }
TunnelEntry to_ourselves() { return proto41(6, "192.0.2.1", "2001:db8:f001:1::c"); }
std::vector<TunnelEntry> all() {
  return {proto41_host(), proto41_slash64(), udp_slash48(), udp_host(), proto41_on_link(), to_ourselves()};
}
}  // namespace tunnels

Bytes client_frame(const TunnelEntry& tunnel, const Bytes& inner, uint16_t ip_id) {
  Ipv4Header h;
  h.src = tunnel.client_v4;
  h.dst = tunnel.server_v4;
  h.id = ip_id;
  h.proto = tunnel.mode == TunnelMode::V6UDPV4 ? 17 : 41;
  const Bytes payload = tunnel.mode == TunnelMode::V6UDPV4 ? udp(tunnel.client_port, tunnel.server_port, inner) : inner;
  return ethernet(addrs::v4_port_mac, addrs::v4_gateway_mac, RTE_ETHER_TYPE_IPV4, ipv4(h, payload));
}

Bytes broker_tunnel_frame(const TunnelEntry& tunnel, const Bytes& inner, uint16_t ip_id,
                          const rte_ether_addr& next_hop_mac) {
  Ipv4Header h;
  h.src = tunnel.server_v4;
  h.dst = tunnel.client_v4;
  h.id = ip_id;
  h.ttl = 64;
  h.proto = tunnel.mode == TunnelMode::V6UDPV4 ? 17 : 41;
  const Bytes payload = tunnel.mode == TunnelMode::V6UDPV4 ? udp(tunnel.server_port, tunnel.client_port, inner) : inner;
  return ethernet(next_hop_mac, addrs::v4_port_mac, RTE_ETHER_TYPE_IPV4, ipv4(h, payload));
}

Bytes uplink_in(const Bytes& ipv6_packet) {
  return ethernet(addrs::v6_port_mac, addrs::v6_gateway_mac, RTE_ETHER_TYPE_IPV6, ipv6_packet);
}

Bytes uplink_out(const Bytes& ipv6_packet, const rte_ether_addr& dst) {
  return ethernet(dst, addrs::v6_port_mac, RTE_ETHER_TYPE_IPV6, ipv6_packet);
}

PipelineHarness::PipelineHarness(DataplaneConfig config) : cfg(std::move(config)) {
  for (const TunnelEntry& e : tunnels::all()) {
    const UpsertResult r = table.try_upsert(e, 1);
    if (r != UpsertResult::Ok) throw std::runtime_error("test tunnel refused: " + std::string(to_string(r)));
  }
  ctx.cfg = &cfg;
  ctx.table = &table;
  ctx.neighbors = &neighbors;
  ctx.counters = &counters;
  ctx.pool = test_pool();
  ctx.side[static_cast<unsigned>(Side::Ipv4)].mac = addrs::v4_port_mac;
  ctx.side[static_cast<unsigned>(Side::Ipv6)].mac = addrs::v6_port_mac;
  ctx.now = 1'700'000'000;
}

PipelineHarness::~PipelineHarness() = default;

Outcome PipelineHarness::run(Side from, const Bytes& frame, uint64_t ol_flags) {
  rte_mbuf* m = to_mbuf(frame);
  m->ol_flags = ol_flags;
  ExtraPackets extra;
  Outcome out;
  out.verdict = process_packet(ctx, from, m, extra);
  out.frame = to_bytes(m);
  rte_pktmbuf_free(m);
  for (unsigned i = 0; i < extra.n; ++i) {
    out.extra.emplace_back(extra.pkt[i].out, to_bytes(extra.pkt[i].m));
    rte_pktmbuf_free(extra.pkt[i].m);
  }
  return out;
}

void PipelineHarness::learn_gateways() {
  neighbors.learn(NeighborKey::ipv4(addrs::v4_gateway), addrs::v4_gateway_mac);
  neighbors.learn(NeighborKey::ipv6(addrs::v6_gateway), addrs::v6_gateway_mac);
}

bool PipelineHarness::only_drop(DropReason reason, uint64_t times) const {
  for (size_t i = 0; i < kDropReasonCount; ++i) {
    const uint64_t expected = i == static_cast<size_t>(reason) ? times : 0;
    if (counters.drops[i].read() != expected) return false;
  }
  return true;
}

}  // namespace tsp::dp::test
