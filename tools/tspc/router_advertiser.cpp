#include "tools/tspc/router_advertiser.hpp"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>
#include <stdexcept>


namespace tsp::tspc {
namespace {

using Clock = std::chrono::steady_clock;

const Ipv6Addr kAllNodes = *Ipv6Addr::parse("ff02::1");
const Ipv6Addr kAllRouters = *Ipv6Addr::parse("ff02::2");

[[noreturn]] void fail(const std::string& what, int error) {
  throw std::runtime_error("router advertisements: " + what + ": " + std::strerror(error));
}

// The interface's link-local address, if it has a usable (not tentative) one.
std::optional<Ipv6Addr> link_local_of(unsigned ifindex) {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return std::nullopt;
  std::optional<Ipv6Addr> found;
  for (ifaddrs* a = list; a != nullptr && !found; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET6) continue;
    const auto* sa = reinterpret_cast<const sockaddr_in6*>(a->ifa_addr);
    if (sa->sin6_scope_id != ifindex || !IN6_IS_ADDR_LINKLOCAL(&sa->sin6_addr)) continue;
    Ipv6Addr address;
    std::memcpy(address.bytes.data(), &sa->sin6_addr, 16);
    found = address;
  }
  ::freeifaddrs(list);
  return found;
}

sockaddr_in6 socket_address(const Ipv6Addr& a, unsigned ifindex) {
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  std::memcpy(&sa.sin6_addr, a.bytes.data(), 16);
  sa.sin6_scope_id = ifindex;
  return sa;
}

}  // namespace

RouterAdvertiser::RouterAdvertiser(const std::string& interface, const Ipv6Prefix& prefix64, LogFn log)
    : interface_(interface), prefix_(prefix64), log_(std::move(log)) {
  ifindex_ = ::if_nametoindex(interface.c_str());
  if (ifindex_ == 0) fail("interface " + interface, errno);
  // The bind below fails while the address is tentative (duplicate address detection).
  const auto give_up = Clock::now() + std::chrono::seconds(3);
  fd_ = tunnel::UniqueFd(::socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6));
  if (!fd_.valid()) fail("raw ICMPv6 socket", errno);
  for (;;) {
    if (const auto a = link_local_of(ifindex_)) {
      const sockaddr_in6 local = socket_address(*a, ifindex_);
      if (::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&local), sizeof local) == 0) {
        link_local_ = *a;
        break;
      }
    }
    if (Clock::now() > give_up) fail("no usable link-local address on " + interface, EADDRNOTAVAIL);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (::setsockopt(fd_.get(), SOL_SOCKET, SO_BINDTODEVICE, interface.c_str(), static_cast<socklen_t>(interface.size())) != 0)
    fail("SO_BINDTODEVICE " + interface, errno);
  const int hops = 255;  // RFC 4861: hosts drop neighbour discovery with any other hop limit
  const int no_loop = 0;
  const unsigned index = ifindex_;
  if (::setsockopt(fd_.get(), IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops) != 0 ||
      ::setsockopt(fd_.get(), IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof hops) != 0 ||
      ::setsockopt(fd_.get(), IPPROTO_IPV6, IPV6_MULTICAST_IF, &index, sizeof index) != 0 ||
      ::setsockopt(fd_.get(), IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &no_loop, sizeof no_loop) != 0)
    fail("socket options", errno);
  icmp6_filter filter;
  ICMP6_FILTER_SETBLOCKALL(&filter);
  ICMP6_FILTER_SETPASS(kIcmpRouterSolicitation, &filter);
  if (::setsockopt(fd_.get(), IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter) != 0) fail("ICMP6_FILTER", errno);
  ipv6_mreq group{};
  std::memcpy(&group.ipv6mr_multiaddr, kAllRouters.bytes.data(), 16);
  group.ipv6mr_interface = ifindex_;
  if (::setsockopt(fd_.get(), IPPROTO_IPV6, IPV6_JOIN_GROUP, &group, sizeof group) != 0) fail("join ff02::2", errno);
  thread_ = std::thread([this] { run(); });
}

RouterAdvertiser::~RouterAdvertiser() { stop(); }

void RouterAdvertiser::stop() {
  if (!thread_.joinable()) return;
  stop_.store(true);
  thread_.join();
  RouterAdvertisement last;
  last.prefix = prefix_;
  last.router_lifetime_s = 0;
  last.preferred_lifetime_s = 0;
  send(last);
  if (log_) log_(2, "router advertisements on " + interface_ + " stopped (final one with router lifetime 0)");
}

void RouterAdvertiser::send(const RouterAdvertisement& ra) {
  const std::vector<uint8_t> message = build_router_advertisement(ra, link_local_, kAllNodes);
  const sockaddr_in6 to = socket_address(kAllNodes, ifindex_);
  if (::sendto(fd_.get(), message.data(), message.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) ==
      static_cast<ssize_t>(message.size())) {
    ++sent_;
  } else if (log_) {
    log_(2, std::string("router advertisement on ") + interface_ + " not sent: " + std::strerror(errno));
  }
}

void RouterAdvertiser::run() {
  std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> interval_ms(3000, 10000);
  RouterAdvertisement ra;
  ra.prefix = prefix_;
  auto next = Clock::now();
  auto last_sent = Clock::now() - std::chrono::hours(1);
  while (!stop_.load()) {
    const auto now = Clock::now();
    if (now >= next) {
      send(ra);
      last_sent = now;
      next = now + std::chrono::milliseconds(interval_ms(random));
    }
    // Wake at least every 200 ms to see stop_.
    const auto wait = std::min(std::chrono::ceil<std::chrono::milliseconds>(next - now), std::chrono::milliseconds(200));
    pollfd p{fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(wait.count(), 0))) <= 0) continue;
    uint8_t buffer[1500];
    const ssize_t n = ::recv(fd_.get(), buffer, sizeof buffer, MSG_DONTWAIT);
    if (n <= 0 || !is_router_solicitation(std::span<const uint8_t>(buffer, static_cast<size_t>(n)))) continue;
    // Answer a solicitation soon, but at most once a second (RFC 4861 §6.2.6 rate limit).
    next = std::max(Clock::now(), last_sent + std::chrono::seconds(1));
  }
}

}  // namespace tsp::tspc
