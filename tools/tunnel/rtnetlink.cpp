#include "tools/tunnel/rtnetlink.hpp"

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <system_error>
#include <thread>

namespace tsp::tunnel {
namespace {

// Builds one netlink request: header, family struct, attributes (nested ones too), each
// padded to 4 bytes as the kernel expects.
class Request {
 public:
  Request(uint16_t type, uint16_t flags) : type_(type), flags_(flags) { bytes_.resize(NLMSG_HDRLEN); }

  template <typename Struct>
  void append_struct(const Struct& s) {
    append(&s, sizeof s);
  }
  void attribute(uint16_t type, const void* data, size_t length) {
    rtattr header{};
    header.rta_len = static_cast<uint16_t>(RTA_LENGTH(length));
    header.rta_type = type;
    append(&header, sizeof header);  // 4 bytes: already aligned
    append(data, length);
  }
  size_t begin_nested(uint16_t type) {
    const size_t start = bytes_.size();
    attribute(type, nullptr, 0);
    return start;
  }
  void end_nested(size_t start) {
    const auto length = static_cast<uint16_t>(bytes_.size() - start);
    std::memcpy(bytes_.data() + start + offsetof(rtattr, rta_len), &length, sizeof length);
  }
  // `ack`: ask for an acknowledgement (changes); a query gets its answer instead.
  std::vector<uint8_t> finish(uint32_t sequence, bool ack = true) {
    nlmsghdr header{};
    header.nlmsg_len = static_cast<uint32_t>(bytes_.size());
    header.nlmsg_type = type_;
    header.nlmsg_flags = static_cast<uint16_t>(flags_ | NLM_F_REQUEST | (ack ? NLM_F_ACK : 0));
    header.nlmsg_seq = sequence;
    std::memcpy(bytes_.data(), &header, sizeof header);
    return std::move(bytes_);
  }

 private:
  void append(const void* data, size_t length) {
    const size_t at = bytes_.size();
    bytes_.resize(at + RTA_ALIGN(length), 0);
    if (length) std::memcpy(bytes_.data() + at, data, length);
  }

  uint16_t type_, flags_;
  std::vector<uint8_t> bytes_;
};

std::string interface_label(unsigned ifindex) {
  char name[IF_NAMESIZE] = {};
  if (::if_indextoname(ifindex, name)) return name;
  return "ifindex " + std::to_string(ifindex);
}

Request link_request(unsigned ifindex, unsigned flags, unsigned change) {
  Request r(RTM_NEWLINK, 0);
  ifinfomsg info{};
  info.ifi_family = AF_UNSPEC;
  info.ifi_index = static_cast<int>(ifindex);
  info.ifi_flags = flags;
  info.ifi_change = change;
  r.append_struct(info);
  return r;
}

}  // namespace

RtNetlink::RtNetlink() : fd_(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)) {
  if (!fd_.valid()) throw std::system_error(errno, std::generic_category(), "rtnetlink socket");
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0)
    throw std::system_error(errno, std::generic_category(), "bind rtnetlink socket");
}

void RtNetlink::configure_tunnel_link(unsigned ifindex, unsigned mtu) {
  // Address generation must be off before the link goes up, or the kernel has already added a
  // link-local address; the kernel applies IFLA_AF_SPEC after the flags of the same message,
  // hence two requests.
  Request settings = link_request(ifindex, 0, 0);
  const uint32_t mtu32 = mtu;
  settings.attribute(IFLA_MTU, &mtu32, sizeof mtu32);
  const size_t af_spec = settings.begin_nested(IFLA_AF_SPEC);
  const size_t inet6 = settings.begin_nested(AF_INET6);
  const uint8_t mode = IN6_ADDR_GEN_MODE_NONE;
  settings.attribute(IFLA_INET6_ADDR_GEN_MODE, &mode, sizeof mode);
  settings.end_nested(inet6);
  settings.end_nested(af_spec);
  std::vector<uint8_t> message = settings.finish(++sequence_);
  transact(message, "set MTU " + std::to_string(mtu) + " and addrgenmode none on " + interface_label(ifindex));
  set_link_up(ifindex);
}

void RtNetlink::set_link_up(unsigned ifindex) {
  std::vector<uint8_t> message = link_request(ifindex, IFF_UP, IFF_UP).finish(++sequence_);
  transact(message, "set " + interface_label(ifindex) + " up");
}

void RtNetlink::add_ipv6_address(unsigned ifindex, const Ipv6Addr& address, unsigned prefix_len) {
  Request r(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
  ifaddrmsg a{};
  a.ifa_family = AF_INET6;
  a.ifa_prefixlen = static_cast<uint8_t>(prefix_len);
  a.ifa_flags = IFA_F_NODAD;
  a.ifa_scope = RT_SCOPE_UNIVERSE;
  a.ifa_index = ifindex;
  r.append_struct(a);
  r.attribute(IFA_LOCAL, address.bytes.data(), address.bytes.size());
  r.attribute(IFA_ADDRESS, address.bytes.data(), address.bytes.size());
  std::vector<uint8_t> message = r.finish(++sequence_);
  const std::string what =
      "add address " + address.to_string() + "/" + std::to_string(prefix_len) + " on " + interface_label(ifindex);
  transact(message, what);
  // The kernel acknowledges at once but installs the address's local route from a work queue
  // a moment later; until then packets to it are dropped as not ours.
  for (int attempt = 0; attempt < 200; ++attempt) {
    if (routes_locally(address)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  throw std::system_error(ETIMEDOUT, std::generic_category(), what + ": the address did not become local within 2 s");
}

void RtNetlink::add_ipv6_route(unsigned ifindex, const Ipv6Prefix& destination) {
  Request r(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
  rtmsg route{};
  route.rtm_family = AF_INET6;
  route.rtm_dst_len = destination.len;
  route.rtm_table = RT_TABLE_MAIN;
  route.rtm_protocol = RTPROT_BOOT;
  route.rtm_scope = RT_SCOPE_UNIVERSE;
  route.rtm_type = RTN_UNICAST;
  r.append_struct(route);
  if (destination.len > 0) r.attribute(RTA_DST, destination.addr.bytes.data(), destination.addr.bytes.size());
  const uint32_t oif = ifindex;
  r.attribute(RTA_OIF, &oif, sizeof oif);
  std::vector<uint8_t> message = r.finish(++sequence_);
  transact(message, "add route " + destination.to_string() + " dev " + interface_label(ifindex));
}

std::vector<uint8_t> RtNetlink::transact(std::vector<uint8_t>& message, const std::string& what) {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd_.get(), message.data(), message.size(), 0, reinterpret_cast<const sockaddr*>(&kernel),
               sizeof kernel) != static_cast<ssize_t>(message.size())) {
    const int error = errno;
    throw std::system_error(error, std::generic_category(), what + ": rtnetlink send");
  }

  std::vector<uint8_t> reply(16384);
  for (;;) {
    const ssize_t n = ::recv(fd_.get(), reply.data(), reply.size(), 0);
    if (n < 0) {
      const int error = errno;
      if (error == EINTR) continue;
      throw std::system_error(error, std::generic_category(), what + ": rtnetlink receive");
    }
    size_t offset = 0;
    while (offset + sizeof(nlmsghdr) <= static_cast<size_t>(n)) {
      nlmsghdr header;
      std::memcpy(&header, reply.data() + offset, sizeof header);
      if (header.nlmsg_len < sizeof header || offset + header.nlmsg_len > static_cast<size_t>(n)) break;
      if (header.nlmsg_seq == sequence_) {
        if (header.nlmsg_type != NLMSG_ERROR)  // the answer to a query
          return std::vector<uint8_t>(reply.begin() + static_cast<std::ptrdiff_t>(offset),
                                      reply.begin() + static_cast<std::ptrdiff_t>(offset + header.nlmsg_len));
        nlmsgerr error;
        if (header.nlmsg_len < NLMSG_LENGTH(sizeof error))
          throw std::system_error(EPROTO, std::generic_category(), what + ": short rtnetlink answer");
        std::memcpy(&error, reply.data() + offset + NLMSG_HDRLEN, sizeof error);
        if (error.error == 0) return {};
        throw std::system_error(-error.error, std::generic_category(), what);
      }
      offset += NLMSG_ALIGN(header.nlmsg_len);
    }
  }
}

bool RtNetlink::routes_locally(const Ipv6Addr& address) {
  Request r(RTM_GETROUTE, 0);
  rtmsg route{};
  route.rtm_family = AF_INET6;
  route.rtm_dst_len = 128;
  r.append_struct(route);
  r.attribute(RTA_DST, address.bytes.data(), address.bytes.size());
  std::vector<uint8_t> message = r.finish(++sequence_, false);
  std::vector<uint8_t> answer;
  try {
    answer = transact(message, "route lookup " + address.to_string());
  } catch (const std::system_error&) {
    return false;  // no route at all yet
  }
  if (answer.size() < NLMSG_HDRLEN + sizeof(rtmsg)) return false;
  rtmsg found;
  std::memcpy(&found, answer.data() + NLMSG_HDRLEN, sizeof found);
  return found.rtm_type == RTN_LOCAL;
}

}  // namespace tsp::tunnel
