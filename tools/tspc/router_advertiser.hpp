// Sends router advertisements for the delegated prefix on the LAN interface (router mode):
// a raw ICMPv6 socket bound to the interface, from its link-local address, hop limit 255,
// to ff02::1 every 3-10 s (random) and soon after each router solicitation; a last one with
// router lifetime 0 when stopped, so hosts stop using the dead route at once.
#pragma once

#include <atomic>
#include <string>
#include <thread>

#include "shared/net_types.hpp"
#include "tools/tspc/control_transport.hpp"
#include "tools/tspc/router_advert.hpp"
#include "tools/tunnel/unique_fd.hpp"

namespace tsp::tspc {

class RouterAdvertiser {
 public:
  // Opens the socket on `interface` (waits up to 3 s for its link-local address: the template
  // may just have brought it up) and starts the sending thread. Throws std::runtime_error
  // naming what failed. `log` must be safe to call from another thread, or empty.
  RouterAdvertiser(const std::string& interface, const Ipv6Prefix& prefix64, LogFn log);
  ~RouterAdvertiser();  // stop()
  RouterAdvertiser(const RouterAdvertiser&) = delete;
  RouterAdvertiser& operator=(const RouterAdvertiser&) = delete;

  // Ends the thread and sends the final advertisement (router lifetime 0, prefix deprecated).
  void stop();
  uint64_t sent() const { return sent_.load(); }

 private:
  void run();
  void send(const RouterAdvertisement& ra);

  std::string interface_;
  unsigned ifindex_ = 0;
  Ipv6Addr link_local_;
  Ipv6Prefix prefix_;
  LogFn log_;
  tunnel::UniqueFd fd_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> sent_{0};
  std::thread thread_;
};

}  // namespace tsp::tspc
