#include "tools/tspc/broker_target.hpp"

#include <arpa/inet.h>
#include <netdb.h>

#include <algorithm>
#include <thread>

namespace tsp::tspc {

std::variant<BrokerTarget, std::string> resolve_broker(const std::string& host, uint16_t port, std::string text) {
  if (host.empty()) return std::string("empty server name");
  if (host.find(':') != std::string::npos || Ipv6Addr::parse(host))
    return "\"" + host + "\" is an IPv6 address; tspc talks TSP over IPv4 only";
  if (const auto literal = Ipv4Addr::parse(host)) return BrokerTarget{*literal, port, std::move(text)};
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (rc != 0 || found == nullptr) return "cannot resolve \"" + host + "\": " + ::gai_strerror(rc);
  const auto* sa = reinterpret_cast<const sockaddr_in*>(found->ai_addr);
  const Ipv4Addr address{ntohl(sa->sin_addr.s_addr)};
  ::freeaddrinfo(found);
  return BrokerTarget{address, port, std::move(text)};
}

bool sleep_unless_stopped(std::chrono::milliseconds duration, const std::atomic<bool>& stop) {
  const auto deadline = std::chrono::steady_clock::now() + duration;
  while (!stop.load()) {
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return true;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(100)));
  }
  return false;
}

}  // namespace tsp::tspc
