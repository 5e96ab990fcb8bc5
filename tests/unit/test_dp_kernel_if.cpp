// The kernel side of the exception taps (dataplane/kernel_if), without DPDK: the test makes
// its own taps with /dev/net/tun in a network namespace of its own (root), lets
// KernelInterfaces configure them, and checks what the kernel then does: which addresses it
// binds, and which next hop it asks for (ARP / neighbor solicitation read from the tap).
#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "dataplane/kernel_if.hpp"

using namespace tsp;
using namespace tsp::dp;

namespace {

// Once per process: everything below happens in a namespace nobody else sees.
bool in_private_netns() {
  static const int result = unshare(CLONE_NEWNET) == 0 ? 0 : errno;
  if (result != 0) UNSCOPED_INFO("unshare(CLONE_NEWNET): " << std::strerror(result) << " (the test needs root)");
  return result == 0;
}

class TestTap {
 public:
  explicit TestTap(const std::string& name) : name_(name) {
    fd_ = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    REQUIRE(fd_ >= 0);
    ifreq ifr{};
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    REQUIRE(ioctl(fd_, TUNSETIFF, &ifr) == 0);
  }
  ~TestTap() { close(fd_); }
  TestTap(const TestTap&) = delete;
  TestTap& operator=(const TestTap&) = delete;

  // Waits up to a second for a frame the kernel sends on this tap that `match` accepts.
  bool wait_for_frame(const std::function<bool(const std::vector<uint8_t>&)>& match) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      std::vector<uint8_t> frame(2048);
      const ssize_t n = read(fd_, frame.data(), frame.size());
      if (n <= 0) continue;
      frame.resize(static_cast<size_t>(n));
      if (match(frame)) return true;
    }
    return false;
  }

 private:
  std::string name_;
  int fd_ = -1;
};

DataplaneConfig test_config() {
  DataplaneConfig cfg;
  cfg.ipv4_tap = "tk-v4";
  cfg.ipv6_tap = "tk-v6";
  cfg.ipv4_address = *Ipv4Addr::parse("192.0.2.1");
  cfg.ipv4_prefix_len = 24;
  cfg.ipv4_gateway = *Ipv4Addr::parse("192.0.2.254");
  cfg.ipv6_address = *Ipv6Addr::parse("2001:db8:ffff::1");
  cfg.ipv6_prefix_len = 64;
  cfg.ipv6_gateway = *Ipv6Addr::parse("2001:db8:ffff::fffe");
  return cfg;
}

sockaddr_in v4_sockaddr(const char* addr, uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  inet_pton(AF_INET, addr, &sa.sin_addr);
  return sa;
}

sockaddr_in6 v6_sockaddr(const char* addr, uint16_t port) {
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  sa.sin6_port = htons(port);
  inet_pton(AF_INET6, addr, &sa.sin6_addr);
  return sa;
}

// 0, or the errno of binding a UDP socket to `from` (if given) and sending to `to`.
template <class SockAddr>
int udp_send(const SockAddr* from, const SockAddr& to) {
  const int fd = socket(reinterpret_cast<const sockaddr*>(&to)->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  int err = 0;
  if (from && bind(fd, reinterpret_cast<const sockaddr*>(from), sizeof *from) != 0) err = errno;
  if (!err && sendto(fd, "x", 1, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) < 0) err = errno;
  close(fd);
  return err;
}

int udp_send_v4(const char* from, const char* to) {
  const auto src = v4_sockaddr(from ? from : "0.0.0.0", 0);
  return udp_send(from ? &src : nullptr, v4_sockaddr(to, 9));
}

int udp_send_v6(const char* from, const char* to) {
  const auto src = v6_sockaddr(from ? from : "::", 0);
  return udp_send(from ? &src : nullptr, v6_sockaddr(to, 9));
}

bool is_arp_request_for(const std::vector<uint8_t>& f, const char* target) {
  in_addr t{};
  inet_pton(AF_INET, target, &t);
  return f.size() >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[21] == 1 && std::memcmp(&f[38], &t, 4) == 0;
}

bool is_neighbor_solicitation_for(const std::vector<uint8_t>& f, const char* target) {
  in6_addr t{};
  inet_pton(AF_INET6, target, &t);
  return f.size() >= 78 && f[12] == 0x86 && f[13] == 0xDD && f[20] == 58 && f[54] == 135 &&
         std::memcmp(&f[62], &t, 16) == 0;
}

bool has_ipv6_address(const std::string& ifname) {
  ifaddrs* list = nullptr;
  REQUIRE(getifaddrs(&list) == 0);
  bool found = false;
  for (ifaddrs* a = list; a; a = a->ifa_next) {
    if (a->ifa_addr && a->ifa_addr->sa_family == AF_INET6 && ifname == a->ifa_name) found = true;
  }
  freeifaddrs(list);
  return found;
}

}  // namespace

TEST_CASE("kernel interfaces: addresses usable at once, gateways used by the broker's addresses only") {
  REQUIRE(in_private_netns());
  TestTap v4_tap("tk-v4"), v6_tap("tk-v6");
  const DataplaneConfig cfg = test_config();
  KernelInterfaces::prepare(cfg);
  {
    KernelInterfaces kif(cfg);
    // Bindable now: the IPv6 address skipped duplicate address detection.
    CHECK(udp_send_v4("192.0.2.1", "192.0.2.7") == 0);
    CHECK(udp_send_v6("2001:db8:ffff::1", "2001:db8:ffff::7") == 0);
    // The IPv4 tap speaks no IPv6 (no link-local address); the IPv6 tap has its own.
    CHECK_FALSE(has_ipv6_address("tk-v4"));
    CHECK(has_ipv6_address("tk-v6"));

    // Off-link traffic from the broker's address goes to the gateway, through the tap.
    CHECK(udp_send_v4("192.0.2.1", "198.51.100.7") == 0);
    CHECK(v4_tap.wait_for_frame([](const auto& f) { return is_arp_request_for(f, "192.0.2.254"); }));
    CHECK(udp_send_v6("2001:db8:ffff::1", "2001:db8:aaaa::7") == 0);
    CHECK(v6_tap.wait_for_frame([](const auto& f) { return is_neighbor_solicitation_for(f, "2001:db8:ffff::fffe"); }));
    // Other sources have no default route: the host's own routing is untouched. (Not
    // checked for IPv6: Linux picks the source before retrying a failed IPv6 lookup, and the
    // broker's is the only global address in this namespace.)
    CHECK(udp_send_v4(nullptr, "198.51.100.7") == ENETUNREACH);
  }
  // The rules left with the object; the addresses stay with the taps.
  CHECK(udp_send_v4("192.0.2.1", "198.51.100.7") == ENETUNREACH);
  CHECK(udp_send_v6("2001:db8:ffff::1", "2001:db8:aaaa::7") == ENETUNREACH);
  CHECK(udp_send_v4("192.0.2.1", "192.0.2.7") == 0);
}

TEST_CASE("kernel interfaces without gateways: addresses only, no route off the subnets") {
  REQUIRE(in_private_netns());
  TestTap v4_tap("tk-v4"), v6_tap("tk-v6");
  DataplaneConfig cfg = test_config();
  cfg.ipv4_gateway.reset();
  cfg.ipv6_gateway.reset();
  KernelInterfaces kif(cfg);
  CHECK(udp_send_v4("192.0.2.1", "192.0.2.7") == 0);
  CHECK(udp_send_v4("192.0.2.1", "198.51.100.7") == ENETUNREACH);
  CHECK(udp_send_v6("2001:db8:ffff::1", "2001:db8:aaaa::7") == ENETUNREACH);
}

TEST_CASE("kernel interfaces replace a rule left over by a broker that did not stop") {
  REQUIRE(in_private_netns());
  TestTap v4_tap("tk-v4"), v6_tap("tk-v6");
  const DataplaneConfig cfg = test_config();
  const KernelAddr v4 = KernelAddr::v4(cfg.ipv4_address);
  RtNetlink netlink;
  netlink.add_source_rule(v4, kBrokerRouteTable, kBrokerRulePriority);  // the leftover
  CHECK_THROWS_WITH(netlink.add_source_rule(v4, kBrokerRouteTable, kBrokerRulePriority),
                    Catch::Contains("add rule 'from 192.0.2.1 lookup 3653'") && Catch::Contains("File exists"));
  {
    KernelInterfaces kif(cfg);
    CHECK(udp_send_v4("192.0.2.1", "198.51.100.7") == 0);
  }
  // One rule was there while it ran, and none is left: nothing to delete any more.
  CHECK_FALSE(netlink.delete_source_rule(v4, kBrokerRouteTable, kBrokerRulePriority));
  CHECK_FALSE(netlink.delete_source_rule(KernelAddr::v6(cfg.ipv6_address), kBrokerRouteTable, kBrokerRulePriority));
}

TEST_CASE("kernel interfaces report what the kernel refused and leave no rule behind") {
  REQUIRE(in_private_netns());
  TestTap v4_tap("tk-v4"), v6_tap("tk-v6");
  DataplaneConfig cfg = test_config();

  cfg.ipv6_tap = "tk-missing";
  CHECK_THROWS_AS(KernelInterfaces(cfg), KernelIfError);
  CHECK_THROWS_WITH(KernelInterfaces(cfg), Catch::Contains("no network interface named 'tk-missing'"));
  CHECK_THROWS_WITH(KernelInterfaces::prepare(DataplaneConfig{}), Catch::Contains("'tsp-v4'"));

  // A gateway off the IPv6 subnet: the IPv4 side was already routed, and is undone.
  cfg = test_config();
  cfg.ipv6_gateway = *Ipv6Addr::parse("2001:db8:eeee::1");
  CHECK_THROWS_WITH(KernelInterfaces(cfg), Catch::Contains("add route ::/0 via 2001:db8:eeee::1 to table 3653"));
  CHECK(udp_send_v4("192.0.2.1", "198.51.100.7") == ENETUNREACH);
  RtNetlink netlink;
  CHECK_FALSE(netlink.delete_source_rule(KernelAddr::v4(cfg.ipv4_address), kBrokerRouteTable, kBrokerRulePriority));

  CHECK_THROWS_WITH(netlink.set_link_up(999999), Catch::Contains("bring up interface #999999") &&
                                                     Catch::Contains("No such device"));
  CHECK_THROWS_AS(RtNetlink::link_index("tk-nothing"), KernelIfError);
}

TEST_CASE("kernel addresses print and size as their family") {
  const KernelAddr v4 = KernelAddr::v4(*Ipv4Addr::parse("192.0.2.1"));
  CHECK(v4.family == AF_INET);
  CHECK(v4.size() == 4);
  CHECK(v4.full_length() == 32);
  CHECK(v4.to_string() == "192.0.2.1");
  const KernelAddr v6 = KernelAddr::v6(*Ipv6Addr::parse("2001:db8::1"));
  CHECK(v6.size() == 16);
  CHECK(v6.full_length() == 128);
  CHECK(v6.to_string() == "2001:db8::1");
}
