// The kernel side of the exception path: the two tap interfaces get the broker's addresses
// and routes over rtnetlink, so the control plane binds plain sockets to the broker's IPv4
// address as on any host. No DPDK here (the taps are made by dataplane/ports.cpp).
//
// Routes through a gateway live in their own table, selected by a rule on the broker's source
// address: a host with a management interface keeps its own default route, and what the
// control plane sends from the broker's address still leaves through the tap.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "dataplane/dataplane.hpp"
#include "shared/net_types.hpp"

namespace tsp::dp {

class KernelIfError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Table and rule priority of the broker's source routes (the TSP port: easy to recognise in
// `ip rule` and `ip route show table 3653`).
inline constexpr uint32_t kBrokerRouteTable = 3653;
inline constexpr uint32_t kBrokerRulePriority = 3653;

// An IPv4 or IPv6 address as the kernel takes it: family and network-order bytes.
struct KernelAddr {
  int family = 0;  // AF_INET or AF_INET6
  std::array<uint8_t, 16> bytes{};

  static KernelAddr v4(Ipv4Addr a);
  static KernelAddr v6(const Ipv6Addr& a);
  size_t size() const { return family == AF_INET ? 4 : 16; }
  uint8_t full_length() const { return family == AF_INET ? 32 : 128; }
  std::string to_string() const;
};

// One NETLINK_ROUTE socket. Every request waits for the kernel's acknowledgement, and a
// refusal throws KernelIfError with the operation, the kernel's errno text and its extended
// message when it gives one.
class RtNetlink {
 public:
  RtNetlink();
  ~RtNetlink();
  RtNetlink(const RtNetlink&) = delete;
  RtNetlink& operator=(const RtNetlink&) = delete;

  // Throws KernelIfError if there is no such interface.
  static unsigned link_index(const std::string& ifname);

  void set_link_up(unsigned ifindex);
  // No IPv6 link-local address (and so no router solicitations, MLD or DAD) on this link;
  // takes effect when the link comes up.
  void disable_ipv6_autoconf(unsigned ifindex);
  // IPv6 addresses are added without duplicate address detection, so they are usable at once.
  void add_address(unsigned ifindex, const KernelAddr& addr, uint8_t prefix_len);
  // Adds or replaces a unicast route in `table`; through `gateway` if set, else on-link.
  void replace_route(uint32_t table, unsigned ifindex, const KernelAddr& dst, uint8_t dst_len,
                     const std::optional<KernelAddr>& gateway, const std::optional<KernelAddr>& prefsrc);
  // "from SRC/full-length lookup TABLE" at `priority`.
  void add_source_rule(const KernelAddr& src, uint32_t table, uint32_t priority);
  // False when no such rule exists.
  bool delete_source_rule(const KernelAddr& src, uint32_t table, uint32_t priority);

 private:
  // Sends one request and waits for its acknowledgement; returns 0 or the kernel's negative
  // errno, with its extended message in `kernel_message`.
  int transact(std::vector<uint8_t>& request, std::string& kernel_message);
  void transact_or_throw(std::vector<uint8_t>& request, const std::string& what);

  int fd_ = -1;
  uint32_t seq_ = 0;
};

// Configures both exception taps from the dataplane configuration; the taps must exist.
// The destructor removes the source rules (addresses and routes vanish with the taps).
class KernelInterfaces {
 public:
  // Call while the taps are still down (before their DPDK ports start): the IPv4 tap is kept
  // free of IPv6, so the kernel does not talk IPv6 onto the IPv4 client segment.
  static void prepare(const DataplaneConfig& cfg);

  // Brings both taps up with the broker's addresses; where a gateway is set, a table with the
  // on-link subnet and a default route through it, and a rule sending what the broker's
  // address sends to that table. Throws KernelIfError (nothing is left behind).
  explicit KernelInterfaces(const DataplaneConfig& cfg);
  ~KernelInterfaces();
  KernelInterfaces(const KernelInterfaces&) = delete;
  KernelInterfaces& operator=(const KernelInterfaces&) = delete;

 private:
  void remove_rules() noexcept;

  RtNetlink netlink_;
  std::optional<KernelAddr> ipv4_rule_src_, ipv6_rule_src_;
};

}  // namespace tsp::dp
