#include "tools/tunnel/tun_device.hpp"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace tsp::tunnel {

TunDevice TunDevice::create(const std::string& name) {
  if (name.size() >= IFNAMSIZ || name.find_first_of("/: \t\n") != std::string::npos)
    throw std::invalid_argument("bad interface name \"" + name + "\" (at most 15 characters, no '/', ':' or spaces)");
  UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) throw std::system_error(errno, std::generic_category(), "open /dev/net/tun");

  ifreq request{};
  request.ifr_flags = IFF_TUN | IFF_NO_PI;
  std::memcpy(request.ifr_name, name.c_str(), name.size());
  if (::ioctl(fd.get(), TUNSETIFF, &request) != 0) {
    const int error = errno;
    throw std::system_error(error, std::generic_category(), "TUNSETIFF " + (name.empty() ? "(any name)" : name));
  }

  std::string actual(request.ifr_name, ::strnlen(request.ifr_name, IFNAMSIZ));
  const unsigned ifindex = ::if_nametoindex(actual.c_str());
  if (ifindex == 0) {
    const int error = errno;
    throw std::system_error(error, std::generic_category(), "if_nametoindex " + actual);
  }
  return TunDevice(std::move(fd), std::move(actual), ifindex);
}

}  // namespace tsp::tunnel
