// Interface configuration over rtnetlink: what `ip link set`, `ip -6 addr add` and
// `ip -6 route add` do, without running them. Each request waits for the kernel's answer, so a
// call that returns has taken effect.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shared/net_types.hpp"
#include "tools/tunnel/unique_fd.hpp"

namespace tsp::tunnel {

class RtNetlink {
 public:
  RtNetlink();  // throws std::system_error

  // Sets the MTU and turns off IPv6 address generation (no link-local address, hence no router
  // solicitations or MLD sent from one), then brings the link up.
  void configure_tunnel_link(unsigned ifindex, unsigned mtu);
  // Brings a link up as it is (e.g. `lo` in a fresh network namespace).
  void set_link_up(unsigned ifindex);
  // Adds `address/prefix_len` without duplicate address detection, and returns once the
  // kernel delivers packets for it (at most 2 s later).
  void add_ipv6_address(unsigned ifindex, const Ipv6Addr& address, unsigned prefix_len);
  // True when a route lookup for `address` gives a local route.
  bool routes_locally(const Ipv6Addr& address);
  // Adds a route to `destination` out of the interface (no gateway: a point-to-point link).
  void add_ipv6_route(unsigned ifindex, const Ipv6Prefix& destination);

 private:
  // Sends one request and waits for its acknowledgement (empty result) or, for a query, its
  // answer (the whole netlink message); throws std::system_error with `what` and the kernel's
  // error.
  std::vector<uint8_t> transact(std::vector<uint8_t>& message, const std::string& what);

  UniqueFd fd_;
  uint32_t sequence_ = 0;
};

}  // namespace tsp::tunnel
