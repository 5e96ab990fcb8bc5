// A Linux TUN interface in IFF_TUN | IFF_NO_PI mode: each read() is one IP packet the kernel
// routed into the interface, each write() one packet the kernel receives from it. The
// interface lives as long as the descriptor (it is not made persistent).
#pragma once

#include <string>

#include "tools/tunnel/unique_fd.hpp"

namespace tsp::tunnel {

class TunDevice {
 public:
  // Creates the interface `name` (at most 15 characters; "" lets the kernel choose tunN).
  // Throws std::system_error (no /dev/net/tun, no CAP_NET_ADMIN, name taken by another kind
  // of interface) or std::invalid_argument (bad name).
  static TunDevice create(const std::string& name);

  int fd() const { return fd_.get(); }
  const std::string& name() const { return name_; }
  unsigned ifindex() const { return ifindex_; }

 private:
  TunDevice(UniqueFd fd, std::string name, unsigned ifindex)
      : fd_(std::move(fd)), name_(std::move(name)), ifindex_(ifindex) {}

  UniqueFd fd_;
  std::string name_;
  unsigned ifindex_ = 0;
};

}  // namespace tsp::tunnel
