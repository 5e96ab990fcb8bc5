// The user-space tunnel endpoint (tools/tunnel/): packet checks, keepalives, both relays and
// the poll() loop. A SOCK_SEQPACKET socketpair stands in for the TUN device (one packet per
// read/write, as IFF_NO_PI gives). Cases tagged [root] need CAP_NET_ADMIN/CAP_NET_RAW: they
// move the process into a private network namespace and use raw sockets and a real TUN device.
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <optional>
#include <thread>
#include <vector>

#include "tools/tunnel/ipv6_packet.hpp"
#include "tools/tunnel/keepalive.hpp"
#include "tools/tunnel/proto41_relay.hpp"
#include "tools/tunnel/relay_loop.hpp"
#include "tools/tunnel/rtnetlink.hpp"
#include "tools/tunnel/tun_device.hpp"
#include "tools/tunnel/udp_relay.hpp"

using namespace tsp;
using namespace tsp::tunnel;
using Packet = std::vector<uint8_t>;

namespace {

Ipv6Addr v6(const char* text) { return *Ipv6Addr::parse(text); }
Ipv4Addr v4(const char* text) { return *Ipv4Addr::parse(text); }

// An IPv6 packet: UDP (17) unless told otherwise, with `payload_size` bytes of 0xAB.
Packet ipv6_packet(const char* src, const char* dst, size_t payload_size = 8, uint8_t next_header = 17) {
  Packet p(kIpv6HeaderSize + payload_size, 0xAB);
  p[0] = 0x60;
  p[1] = p[2] = p[3] = 0;
  p[4] = static_cast<uint8_t>(payload_size >> 8);
  p[5] = static_cast<uint8_t>(payload_size);
  p[6] = next_header;
  p[7] = 64;
  const Ipv6Addr s = v6(src), d = v6(dst);
  std::copy(s.bytes.begin(), s.bytes.end(), p.begin() + 8);
  std::copy(d.bytes.begin(), d.bytes.end(), p.begin() + 24);
  return p;
}

// `inner` behind a 20-byte IPv4 header (checksum left zero: the parser does not read it).
Packet ipv4_datagram(const char* src, const char* dst, uint8_t protocol, const Packet& inner) {
  Packet d(20, 0);
  d[0] = 0x45;
  const size_t total = 20 + inner.size();
  d[2] = static_cast<uint8_t>(total >> 8);
  d[3] = static_cast<uint8_t>(total);
  d[8] = 64;
  d[9] = protocol;
  const uint32_t s = htonl(v4(src).value), t = htonl(v4(dst).value);
  std::memcpy(&d[12], &s, 4);
  std::memcpy(&d[16], &t, 4);
  d.insert(d.end(), inner.begin(), inner.end());
  return d;
}

bool readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) > 0;
}

// One datagram/packet from `fd` within `timeout_ms`, or nullopt.
std::optional<Packet> receive_within(int fd, int timeout_ms = 2000) {
  if (!readable(fd, timeout_ms)) return std::nullopt;
  Packet buffer(70000);
  const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
  if (n < 0) return std::nullopt;
  buffer.resize(static_cast<size_t>(n));
  return buffer;
}

void send_all(int fd, const Packet& p) { REQUIRE(::send(fd, p.data(), p.size(), 0) == static_cast<ssize_t>(p.size())); }

// Waits until the peer of the AF_UNIX socket `fd` has read everything sent on it (the relay has
// taken every packet the test wrote into the fake TUN device).
void wait_until_consumed(int fd) {
  for (int i = 0; i < 400; ++i) {
    int unread = 0;
    REQUIRE(::ioctl(fd, SIOCOUTQ, &unread) == 0);
    if (unread == 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  FAIL("the relay did not read the fake TUN device within 2 s");
}

// The two ends of a fake TUN device: the relay gets [0], the test plays the kernel on [1].
struct FakeTun {
  int fds[2] = {-1, -1};
  FakeTun() { REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) == 0); }
  ~FakeTun() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
  int relay_end() const { return fds[0]; }
  int kernel_end() const { return fds[1]; }
};

// Runs a RelayLoop on its own thread; stop() joins it and hands back its counters.
class RunningRelay {
 public:
  RunningRelay(int tun_fd, TunnelSocket& tunnel, RelayOptions options)
      : loop_(tun_fd, tunnel, std::move(options)), thread_([this] { run(); }) {}
  ~RunningRelay() { stop(); }
  const RelayCounters& stop() {
    stop_flag_ = true;
    if (thread_.joinable()) thread_.join();
    if (failure_) FAIL("relay loop threw: " << *failure_);
    return loop_.counters();
  }

 private:
  void run() {
    try {
      loop_.run(stop_flag_);
    } catch (const std::exception& e) {
      failure_ = e.what();
    }
  }
  std::atomic<bool> stop_flag_{false};
  std::optional<std::string> failure_;
  RelayLoop loop_;
  std::thread thread_;
};

int udp_socket_bound(const char* address, uint16_t port = 0) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(v4(address).value);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  return fd;
}

sockaddr_in local_address_of(int fd) {
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0);
  return sa;
}

void connect_to(int fd, const sockaddr_in& peer) {
  REQUIRE(::connect(fd, reinterpret_cast<const sockaddr*>(&peer), sizeof peer) == 0);
}

// Root cases share one private network namespace with `lo` up, entered once per process.
void enter_private_netns() {
  static bool entered = false;
  if (entered) return;
  if (::geteuid() != 0) FAIL("this case needs root (raw sockets, TUN, a network namespace); CI runs as root");
  if (::unshare(CLONE_NEWNET) != 0) FAIL("unshare(CLONE_NEWNET): " << std::strerror(errno));
  RtNetlink().set_link_up(::if_nametoindex("lo"));
  entered = true;
}

}  // namespace

TEST_CASE("IPv6 packets are complete only with version 6 and every announced byte") {
  const Packet p = ipv6_packet("2001:db8::1", "2001:db8::2", 8);
  CHECK(is_complete_ipv6(p));
  Packet longer = p;
  longer.push_back(0);  // trailing bytes: tolerated
  CHECK(is_complete_ipv6(longer));
  CHECK_FALSE(is_complete_ipv6(Bytes(p.data(), p.size() - 1)));
  CHECK_FALSE(is_complete_ipv6(Bytes(p.data(), 39)));
  CHECK_FALSE(is_complete_ipv6(Bytes{}));
  Packet v4_version = p;
  v4_version[0] = 0x45;
  CHECK_FALSE(is_complete_ipv6(v4_version));
  CHECK(ipv6_source(p) == v6("2001:db8::1"));
  CHECK(ipv6_destination(p) == v6("2001:db8::2"));
}

TEST_CASE("only packets the broker can route are sent into the tunnel") {
  CHECK(is_routable_through_broker(ipv6_packet("2001:db8::1", "2001:db8:ffff::fffe")));
  CHECK_FALSE(is_routable_through_broker(ipv6_packet("fe80::1", "2001:db8::2")));          // link-local source
  CHECK_FALSE(is_routable_through_broker(ipv6_packet("::", "ff02::16")));                  // MLD report
  CHECK_FALSE(is_routable_through_broker(ipv6_packet("2001:db8::1", "ff02::2")));          // router solicitation
  CHECK_FALSE(is_routable_through_broker(ipv6_packet("2001:db8::1", "fe80::1")));          // link-local target
  CHECK_FALSE(is_routable_through_broker(ipv6_packet("2001:db8::1", "ff0e::1")));          // global multicast
  CHECK_FALSE(is_routable_through_broker(ipv6_packet("ff02::1", "2001:db8::2")));          // multicast source
}

TEST_CASE("the ICMPv6 checksum matches RFC 4443 arithmetic") {
  // An echo request 2001:db8::1 -> 2001:db8::2, id 0x1234, seq 1, payload "abcd"; the sum
  // worked out by hand: pseudo-header words + ICMP words, folded and inverted.
  const Packet icmp = {128, 0, 0, 0, 0x12, 0x34, 0x00, 0x01, 'a', 'b', 'c', 'd'};
  uint32_t sum = 0x2001 + 0x0db8 + 0x0001 + 0x2001 + 0x0db8 + 0x0002;  // addresses
  sum += 12 + 58;                                                       // length, next header
  sum += 0x8000 + 0x1234 + 0x0001 + 0x6162 + 0x6364;                    // the message
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  CHECK(icmpv6_checksum(v6("2001:db8::1"), v6("2001:db8::2"), icmp) == static_cast<uint16_t>(~sum));
  // An odd length pads the last byte with a zero.
  const Packet odd = {128, 0, 0, 0, 'x'};
  uint32_t odd_sum = 0x2001 + 0x0db8 + 0x0001 + 0x2001 + 0x0db8 + 0x0002 + 5 + 58 + 0x8000 + 0x7800;
  while (odd_sum >> 16) odd_sum = (odd_sum & 0xFFFF) + (odd_sum >> 16);
  CHECK(icmpv6_checksum(v6("2001:db8::1"), v6("2001:db8::2"), odd) == static_cast<uint16_t>(~odd_sum));
}

TEST_CASE("keepalives are gogoc's echo requests and their replies are recognised") {
  const Ipv6Addr client = v6("2001:db8:f001:1::2"), server = v6("2001:db8:f001:1::1");
  KeepalivePinger pinger(client, server, 0x4242);
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000) + std::chrono::microseconds(5));
  const Packet first = pinger.next_request(now);
  const Packet second = pinger.next_request(now);
  REQUIRE(first.size() == 40 + 8 + 16);
  CHECK(is_complete_ipv6(first));
  CHECK(first[6] == kNextHeaderIcmpv6);
  CHECK(first[7] == 64);
  CHECK(ipv6_source(first) == client);
  CHECK(ipv6_destination(first) == server);
  CHECK(first[40] == 128);
  CHECK(first[44] == 0x42);
  CHECK(first[45] == 0x42);
  uint16_t seq1 = 0, seq2 = 0;
  std::memcpy(&seq1, &first[46], 2);
  std::memcpy(&seq2, &second[46], 2);
  CHECK(seq1 == 0);
  CHECK(seq2 == 1);
  CHECK(first[48] == (1700000000 & 0xFF));  // tv_sec, little-endian
  CHECK(first[56] == 5);                    // tv_usec
  // A correct checksum sums, with itself included, to zero.
  CHECK(icmpv6_checksum(client, server, Bytes(first).subspan(40)) == 0);

  Packet reply = first;
  std::copy(server.bytes.begin(), server.bytes.end(), reply.begin() + 8);
  std::copy(client.bytes.begin(), client.bytes.end(), reply.begin() + 24);
  reply[40] = 129;
  CHECK(pinger.is_reply(reply));
  CHECK_FALSE(pinger.is_reply(first));  // a request, not a reply
  Packet other_id = reply;
  other_id[45] = 0x43;
  CHECK_FALSE(pinger.is_reply(other_id));
  Packet from_elsewhere = reply;
  from_elsewhere[23] ^= 1;
  CHECK_FALSE(pinger.is_reply(from_elsewhere));
  CHECK_FALSE(pinger.is_reply(Bytes(reply.data(), 44)));
}

TEST_CASE("protocol-41 datagrams: only from the server, whole, with IPv6 inside") {
  const Packet inner = ipv6_packet("2001:db8:ffff::fffe", "2001:db8:f001:1::2", 16);
  const Ipv4Addr server = v4("192.0.2.1");

  const Packet good = ipv4_datagram("192.0.2.1", "192.0.2.10", 41, inner);
  const Proto41Parse ok = parse_proto41_datagram(good, server);
  REQUIRE(ok.kind == Inbound::packet);
  CHECK(Packet(ok.inner.begin(), ok.inner.end()) == inner);

  CHECK(parse_proto41_datagram(ipv4_datagram("192.0.2.66", "192.0.2.10", 41, inner), server).kind ==
        Inbound::not_from_server);
  CHECK(parse_proto41_datagram(ipv4_datagram("192.0.2.1", "192.0.2.10", 17, inner), server).kind == Inbound::malformed);
  CHECK(parse_proto41_datagram(Bytes(good.data(), 19), server).kind == Inbound::malformed);
  CHECK(parse_proto41_datagram(Bytes(good.data(), good.size() - 1), server).kind == Inbound::malformed);

  Packet short_ihl = good;
  short_ihl[0] = 0x44;
  CHECK(parse_proto41_datagram(short_ihl, server).kind == Inbound::malformed);
  Packet not_v4 = good;
  not_v4[0] = 0x65;
  CHECK(parse_proto41_datagram(not_v4, server).kind == Inbound::malformed);

  Packet cut_inner = inner;
  cut_inner.resize(30);
  CHECK(parse_proto41_datagram(ipv4_datagram("192.0.2.1", "192.0.2.10", 41, cut_inner), server).kind ==
        Inbound::not_ipv6);

  // Bytes past the IPv4 total length (Ethernet padding) are not part of the inner packet.
  Packet padded = good;
  padded.resize(good.size() + 6, 0);
  const Proto41Parse trimmed = parse_proto41_datagram(padded, server);
  REQUIRE(trimmed.kind == Inbound::packet);
  CHECK(trimmed.inner.size() == inner.size());

  // Options in the IPv4 header move the inner packet.
  Packet with_options = good;
  with_options[0] = 0x46;
  with_options.insert(with_options.begin() + 20, {1, 1, 1, 0});
  const size_t total = with_options.size();
  with_options[2] = static_cast<uint8_t>(total >> 8);
  with_options[3] = static_cast<uint8_t>(total);
  const Proto41Parse opt = parse_proto41_datagram(with_options, server);
  REQUIRE(opt.kind == Inbound::packet);
  CHECK(Packet(opt.inner.begin(), opt.inner.end()) == inner);
}

TEST_CASE("v6udpv4 payloads: first nibble 6 is data, 0xF is TSP control") {
  CHECK(classify_udp_payload(ipv6_packet("2001:db8::1", "2001:db8::2")) == Inbound::packet);
  const Packet control = {0xF0, 0, 0, 0xF0, 0, 0, 0, 1, '2', '0', '0'};
  CHECK(classify_udp_payload(control) == Inbound::control);
  CHECK(classify_udp_payload(Packet{0x45, 0, 0, 20}) == Inbound::not_ipv6);
  CHECK(classify_udp_payload(Packet{0x60, 0, 0}) == Inbound::not_ipv6);
  CHECK(classify_udp_payload(Bytes{}) == Inbound::not_ipv6);
}

TEST_CASE("the UDP relay carries packets both ways over the session socket") {
  // "server" plays the broker's port 3653; the client socket is the TSP session's.
  const int server = udp_socket_bound("127.0.0.1");
  const int client = udp_socket_bound("127.0.0.1");
  connect_to(client, local_address_of(server));
  connect_to(server, local_address_of(client));
  UdpRelay relay{UniqueFd(client)};
  FakeTun tun;

  const Ipv6Addr me = v6("2001:db8:f001:1::2"), broker = v6("2001:db8:f001:1::1");
  RelayOptions options;
  options.keepalive = KeepaliveSettings{me, broker, std::chrono::seconds(3600), 7, std::chrono::hours(1)};
  RunningRelay running(tun.relay_end(), relay, options);

  // The first keepalive goes out at once.
  const auto keepalive = receive_within(server);
  REQUIRE(keepalive);
  CHECK(keepalive->size() == 64);
  CHECK((*keepalive)[40] == 128);

  // Its reply is taken by the relay, not written to the TUN device.
  Packet reply = *keepalive;
  std::copy(broker.bytes.begin(), broker.bytes.end(), reply.begin() + 8);
  std::copy(me.bytes.begin(), me.bytes.end(), reply.begin() + 24);
  reply[40] = 129;
  send_all(server, reply);

  // TUN -> tunnel, unchanged.
  const Packet out = ipv6_packet("2001:db8:f001:1::2", "2001:db8:ffff::fffe", 1000);
  send_all(tun.kernel_end(), out);
  const auto carried = receive_within(server);
  REQUIRE(carried);
  CHECK(*carried == out);

  // Link-local and non-IPv6 TUN packets stay home.
  send_all(tun.kernel_end(), ipv6_packet("fe80::1", "ff02::2"));
  send_all(tun.kernel_end(), Packet{0x45, 0, 0, 20, 0, 0, 0, 0});
  wait_until_consumed(tun.kernel_end());
  CHECK_FALSE(receive_within(server, 200));

  // tunnel -> TUN: data yes, control no, garbage no.
  send_all(server, Packet{0xF0, 0, 0, 0xF5, 0, 0, 0, 9});
  send_all(server, Packet{0x12, 0x34});
  const Packet in = ipv6_packet("2001:db8:ffff::fffe", "2001:db8:f001:1::2", 1200);
  send_all(server, in);
  const auto delivered = receive_within(tun.kernel_end());
  REQUIRE(delivered);
  CHECK(*delivered == in);  // the first thing on the TUN: the reply and the others did not get there
  CHECK_FALSE(receive_within(tun.kernel_end(), 200));

  const RelayCounters& c = running.stop();
  CHECK(c.keepalives_sent == 1);
  CHECK(c.keepalive_replies == 1);
  CHECK(c.to_tunnel_packets == 1);
  CHECK(c.to_tunnel_bytes == out.size());
  CHECK(c.from_tunnel_packets == 1);
  CHECK(c.from_tunnel_bytes == in.size());
  CHECK(c.dropped_local_scope == 1);
  CHECK(c.dropped_tun_not_ipv6 == 1);
  CHECK(c.control_messages == 1);
  CHECK(c.dropped_not_ipv6 == 1);
  CHECK(c.send_errors == 0);
  CHECK(format_relay_counters(c).find("relay.to_tunnel_packets=1\n") != std::string::npos);
  ::close(server);
}

TEST_CASE("unanswered keepalives are retried until one is answered") {
  const int server = udp_socket_bound("127.0.0.1");
  const int client = udp_socket_bound("127.0.0.1");
  connect_to(client, local_address_of(server));
  connect_to(server, local_address_of(client));
  UdpRelay relay{UniqueFd(client)};
  FakeTun tun;
  const Ipv6Addr me = v6("2001:db8:f001:1::2"), broker = v6("2001:db8:f001:1::1");
  RelayOptions options;
  options.keepalive = KeepaliveSettings{me, broker, std::chrono::seconds(3600), 7, std::chrono::milliseconds(100)};
  RunningRelay running(tun.relay_end(), relay, options);

  const auto first = receive_within(server);
  const auto second = receive_within(server, 1000);  // no answer: again after 100 ms, not an hour
  REQUIRE(first);
  REQUIRE(second);
  uint16_t sequence = 0;
  std::memcpy(&sequence, &(*second)[46], 2);
  CHECK(sequence == 1);
  Packet reply = *second;
  std::copy(broker.bytes.begin(), broker.bytes.end(), reply.begin() + 8);
  std::copy(me.bytes.begin(), me.bytes.end(), reply.begin() + 24);
  reply[40] = 129;
  send_all(server, reply);
  // Answered: the next one is an interval (an hour) away.
  CHECK_FALSE(receive_within(server, 400));
  const RelayCounters& c = running.stop();
  CHECK(c.keepalives_sent == 2);
  CHECK(c.keepalive_replies == 1);
  ::close(server);
}

TEST_CASE("the UDP relay survives an ICMP port unreachable") {
  // A server that went away: the next send fails with ECONNREFUSED, then the socket works on.
  const int gone = udp_socket_bound("127.0.0.1");
  const sockaddr_in gone_address = local_address_of(gone);
  const int client = udp_socket_bound("127.0.0.1");
  connect_to(client, gone_address);
  ::close(gone);
  UdpRelay relay{UniqueFd(client)};
  FakeTun tun;
  RunningRelay running(tun.relay_end(), relay, RelayOptions{});
  for (int i = 0; i < 3; ++i) {
    send_all(tun.kernel_end(), ipv6_packet("2001:db8::2", "2001:db8::99"));
    wait_until_consumed(tun.kernel_end());
  }
  const RelayCounters& c = running.stop();
  CHECK(c.to_tunnel_packets + c.send_errors == 3);
  CHECK(c.receive_errors + c.send_errors >= 1);
}

TEST_CASE("the relay counts what the kernel dropped for a full socket buffer") {
  const int server = udp_socket_bound("127.0.0.1");
  const int client = udp_socket_bound("127.0.0.1");
  connect_to(client, local_address_of(server));
  connect_to(server, local_address_of(client));
  UdpRelay relay{UniqueFd(client)};
  // Before the relay runs, far more than the receive buffer holds: the kernel drops the rest.
  constexpr int kSent = 3000;
  const Packet in = ipv6_packet("2001:db8:ffff::fffe", "2001:db8:f001:1::2", 1200);
  for (int i = 0; i < kSent; ++i) send_all(server, in);

  FakeTun tun;
  RunningRelay running(tun.relay_end(), relay, RelayOptions{});
  int on_tun = 0;
  while (receive_within(tun.kernel_end(), 300)) ++on_tun;
  const RelayCounters& c = running.stop();
  CHECK(c.socket_drops > 0);
  CHECK(c.from_tunnel_packets == static_cast<uint64_t>(on_tun));
  // Every datagram is accounted for: delivered, refused by the (fake) TUN, or dropped unread.
  CHECK(c.from_tunnel_packets + c.tun_write_errors + c.socket_drops == kSent);
  ::close(server);
}

TEST_CASE("the UDP relay refuses a socket that is not connected") {
  const int unconnected = udp_socket_bound("127.0.0.1");
  CHECK_THROWS_AS(UdpRelay{UniqueFd(unconnected)}, std::system_error);
}

TEST_CASE("a TUN device configured over rtnetlink talks to the kernel", "[root]") {
  enter_private_netns();
  CHECK_THROWS_AS(TunDevice::create("a-name-far-too-long"), std::invalid_argument);

  TunDevice tun = TunDevice::create("tsptest0");
  CHECK(tun.name() == "tsptest0");
  CHECK(tun.ifindex() == ::if_nametoindex("tsptest0"));
  RtNetlink netlink;
  netlink.configure_tunnel_link(tun.ifindex(), 1280);
  const Ipv6Addr local = v6("2001:db8:f001:1::2"), remote = v6("2001:db8:ffff::fffe");
  netlink.add_ipv6_address(tun.ifindex(), local, 128);
  netlink.add_ipv6_route(tun.ifindex(), *Ipv6Prefix::parse("2001:db8:ffff::/64"));
  // add_ipv6_address returns once the kernel takes the address as its own.
  CHECK(netlink.routes_locally(local));
  CHECK_FALSE(netlink.routes_locally(remote));
  // The kernel's own answer names the object: adding the same address twice is an error.
  CHECK_THROWS_WITH(netlink.add_ipv6_address(tun.ifindex(), local, 128), Catch::Contains("2001:db8:f001:1::2/128"));
  CHECK_THROWS_AS(netlink.add_ipv6_route(999999, *Ipv6Prefix::parse("2001:db8:1::/48")), std::system_error);

  // An echo request written into the TUN device reaches the kernel, which answers through the
  // route we added: address, route, link state and our checksum are all right.
  KeepalivePinger remote_side(remote, local, 0x5151);
  const Packet request = remote_side.next_request(std::chrono::system_clock::now());
  REQUIRE(::write(tun.fd(), request.data(), request.size()) == static_cast<ssize_t>(request.size()));
  std::optional<Packet> answer;
  for (int i = 0; i < 20 && !(answer && remote_side.is_reply(*answer)); ++i) {
    if (!readable(tun.fd(), 200)) continue;
    Packet buffer(2000);
    const ssize_t n = ::read(tun.fd(), buffer.data(), buffer.size());
    if (n > 0) answer = Packet(buffer.begin(), buffer.begin() + n);
  }
  REQUIRE(answer);
  CHECK(remote_side.is_reply(*answer));
}

TEST_CASE("the protocol-41 relay talks only to its server", "[root]") {
  enter_private_netns();
  // The relay is 127.0.0.1, the server 127.0.0.2, a spoofer 127.0.0.3 (all on lo).
  Proto41Relay relay(v4("127.0.0.1"), v4("127.0.0.2"));
  auto raw_socket = [](const char* local, const char* peer) {
    const int fd = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, kProtocolIpv6InIpv4);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(v4(local).value);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    a.sin_addr.s_addr = htonl(v4(peer).value);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    return fd;
  };
  const int server = raw_socket("127.0.0.2", "127.0.0.1");
  const int spoofer = raw_socket("127.0.0.3", "127.0.0.1");
  FakeTun tun;
  RunningRelay running(tun.relay_end(), relay, RelayOptions{});

  // TUN -> server: the kernel wraps the packet in IPv4 protocol 41 from 127.0.0.1.
  const Packet out = ipv6_packet("2001:db8:f001:1::2", "2001:db8:ffff::fffe", 500);
  send_all(tun.kernel_end(), out);
  const auto at_server = receive_within(server);
  REQUIRE(at_server);
  const Proto41Parse seen = parse_proto41_datagram(*at_server, v4("127.0.0.1"));
  REQUIRE(seen.kind == Inbound::packet);
  CHECK(Packet(seen.inner.begin(), seen.inner.end()) == out);

  // The spoofer's packet never reaches the TUN device; the server's that follows does.
  const Packet forged = ipv6_packet("2001:db8:ffff::666", "2001:db8:f001:1::2", 40);
  send_all(spoofer, forged);
  const Packet in = ipv6_packet("2001:db8:ffff::fffe", "2001:db8:f001:1::2", 700);
  send_all(server, in);
  const auto delivered = receive_within(tun.kernel_end());
  REQUIRE(delivered);
  CHECK(*delivered == in);
  CHECK_FALSE(receive_within(tun.kernel_end(), 200));

  const RelayCounters& c = running.stop();
  CHECK(c.to_tunnel_packets == 1);
  CHECK(c.from_tunnel_packets == 1);
  CHECK(c.from_tunnel_bytes == in.size());
  ::close(server);
  ::close(spoofer);
}

TEST_CASE("the protocol-41 relay survives a server without protocol 41", "[root]") {
  enter_private_netns();
  // Nothing listens for protocol 41 on 127.0.0.4: its kernel answers "protocol unreachable",
  // which the connected raw socket reports once (ENOPROTOOPT). The relay counts it and goes on.
  Proto41Relay relay(v4("127.0.0.1"), v4("127.0.0.4"));
  FakeTun tun;
  RunningRelay running(tun.relay_end(), relay, RelayOptions{});
  send_all(tun.kernel_end(), ipv6_packet("2001:db8:f001:1::2", "2001:db8:ffff::fffe", 100));
  wait_until_consumed(tun.kernel_end());

  // The server comes up; the relay still carries packets both ways. (A packet sent while the
  // error is still pending is lost with it: send until one arrives.)
  const int server = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, kProtocolIpv6InIpv4);
  REQUIRE(server >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(v4("127.0.0.4").value);
  REQUIRE(::bind(server, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  a.sin_addr.s_addr = htonl(v4("127.0.0.1").value);
  REQUIRE(::connect(server, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  const Packet out = ipv6_packet("2001:db8:f001:1::2", "2001:db8:ffff::fffe", 200);
  std::optional<Packet> at_server;
  for (int attempt = 0; attempt < 10 && !at_server; ++attempt) {
    send_all(tun.kernel_end(), out);
    at_server = receive_within(server, 300);
  }
  REQUIRE(at_server);
  CHECK(at_server->size() == 20 + out.size());
  const Packet in = ipv6_packet("2001:db8:ffff::fffe", "2001:db8:f001:1::2", 300);
  send_all(server, in);
  const auto delivered = receive_within(tun.kernel_end());
  REQUIRE(delivered);
  CHECK(*delivered == in);

  const RelayCounters& c = running.stop();
  CHECK(c.receive_errors + c.send_errors >= 1);
  CHECK(c.from_tunnel_packets == 1);
  ::close(server);
}

TEST_CASE("the relay gives up when keepalives go unanswered for max_missed intervals") {
  const int server = udp_socket_bound("127.0.0.1");
  const int client = udp_socket_bound("127.0.0.1");
  connect_to(client, local_address_of(server));
  UdpRelay relay{UniqueFd(client)};
  FakeTun tun;
  RelayOptions options;
  KeepaliveSettings k{v6("2001:db8:f001:1::2"), v6("2001:db8:f001:1::1"), std::chrono::seconds(1), 7,
                      std::chrono::milliseconds(100)};
  k.max_missed = 1;
  k.reply_timeout = std::chrono::milliseconds(200);
  options.keepalive = k;
  RelayLoop loop(tun.relay_end(), relay, options);
  std::atomic<bool> stop{false};
  const auto start = std::chrono::steady_clock::now();
  CHECK(loop.run(stop) == RelayExit::keepalive_timeout);
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(took >= std::chrono::milliseconds(1200));  // 1 interval + the reply time-out
  CHECK(took < std::chrono::milliseconds(2500));
  CHECK(loop.counters().keepalives_sent >= 2);
  CHECK(loop.counters().keepalive_replies == 0);
  SECTION("without max_missed the loop runs until stopped") {
    RelayOptions patient = options;
    patient.keepalive->max_missed = 0;
    RelayLoop forever(tun.relay_end(), relay, patient);
    std::atomic<bool> raised{true};
    CHECK(forever.run(raised) == RelayExit::stopped);
  }
  ::close(server);
}
