#include "dataplane/kernel_if.hpp"

#include <arpa/inet.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tsp::dp {

namespace {

constexpr size_t align4(size_t n) { return (n + 3) & ~size_t{3}; }

// One rtnetlink request: the netlink header, the message's fixed header, then attributes.
// Built with memcpy, so nothing is read or written through a misaligned pointer.
class NlMessage {
 public:
  NlMessage(uint16_t type, uint16_t flags) {
    nlmsghdr h{};
    h.nlmsg_type = type;
    h.nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | NLM_F_ACK | flags);
    append(&h, sizeof h);
  }

  template <class Fixed>
  void fixed_header(const Fixed& fixed) {
    append(&fixed, sizeof fixed);
  }

  void attr(uint16_t type, const void* data, size_t len) {
    rtattr a{};
    a.rta_len = static_cast<unsigned short>(RTA_LENGTH(len));
    a.rta_type = type;
    append(&a, sizeof a);
    append(data, len);
  }
  void attr_u32(uint16_t type, uint32_t value) { attr(type, &value, sizeof value); }
  void attr_u8(uint16_t type, uint8_t value) { attr(type, &value, sizeof value); }
  void attr_addr(uint16_t type, const KernelAddr& a) { attr(type, a.bytes.data(), a.size()); }

  size_t begin_nest(uint16_t type) {
    const size_t at = buf_.size();
    rtattr a{};
    a.rta_type = type;
    append(&a, sizeof a);
    return at;
  }
  void end_nest(size_t at) {
    const auto len = static_cast<unsigned short>(buf_.size() - at);
    std::memcpy(buf_.data() + at + offsetof(rtattr, rta_len), &len, sizeof len);
  }

  std::vector<uint8_t>& finish() {
    const auto len = static_cast<uint32_t>(buf_.size());
    std::memcpy(buf_.data() + offsetof(nlmsghdr, nlmsg_len), &len, sizeof len);
    return buf_;
  }

 private:
  void append(const void* data, size_t len) {
    const auto* bytes = static_cast<const uint8_t*>(data);
    buf_.insert(buf_.end(), bytes, bytes + len);
    buf_.resize(align4(buf_.size()), 0);
  }

  std::vector<uint8_t> buf_;
};

std::string errno_text(int err) { return std::strerror(err); }

KernelAddr masked(const KernelAddr& a, uint8_t len) {
  KernelAddr out = a;
  for (size_t i = 0; i < out.bytes.size(); ++i) {
    const size_t first_bit = i * 8;
    if (first_bit >= len) {
      out.bytes[i] = 0;
    } else if (len - first_bit < 8) {
      out.bytes[i] = static_cast<uint8_t>(out.bytes[i] & (0xFF << (8 - (len - first_bit))));
    }
  }
  return out;
}

KernelAddr any_address(int family) {
  KernelAddr a;
  a.family = family;
  return a;
}

fib_rule_hdr source_rule_header(const KernelAddr& src, uint32_t table) {
  fib_rule_hdr h{};
  h.family = static_cast<uint8_t>(src.family);
  h.src_len = src.full_length();
  h.table = table < 256 ? static_cast<uint8_t>(table) : static_cast<uint8_t>(RT_TABLE_UNSPEC);
  h.action = FR_ACT_TO_TBL;
  return h;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

KernelAddr KernelAddr::v4(Ipv4Addr a) {
  KernelAddr out;
  out.family = AF_INET;
  const uint32_t be = htonl(a.value);
  std::memcpy(out.bytes.data(), &be, sizeof be);
  return out;
}

KernelAddr KernelAddr::v6(const Ipv6Addr& a) {
  KernelAddr out;
  out.family = AF_INET6;
  out.bytes = a.bytes;
  return out;
}

std::string KernelAddr::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, bytes.data(), text, sizeof text);
  return text;
}

// ---------------------------------------------------------------------------------------------

RtNetlink::RtNetlink() {
  fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd_ < 0) throw KernelIfError("rtnetlink socket: " + errno_text(errno));
  // Short acknowledgements (without our request echoed) carrying the kernel's own message.
  const int on = 1;
  setsockopt(fd_, SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof on);
  setsockopt(fd_, SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof on);
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (bind(fd_, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0) {
    const int err = errno;
    close(fd_);
    throw KernelIfError("rtnetlink bind: " + errno_text(err));
  }
}

RtNetlink::~RtNetlink() { close(fd_); }

unsigned RtNetlink::link_index(const std::string& ifname) {
  const unsigned index = if_nametoindex(ifname.c_str());
  if (index == 0) throw KernelIfError("no network interface named '" + ifname + "': " + errno_text(errno));
  return index;
}

int RtNetlink::transact(std::vector<uint8_t>& request, std::string& kernel_message) {
  const uint32_t seq = ++seq_;
  std::memcpy(request.data() + offsetof(nlmsghdr, nlmsg_seq), &seq, sizeof seq);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (sendto(fd_, request.data(), request.size(), 0, reinterpret_cast<const sockaddr*>(&kernel), sizeof kernel) < 0) {
    return -errno;
  }
  alignas(nlmsghdr) uint8_t reply[8192];
  for (;;) {
    const ssize_t got = recv(fd_, reply, sizeof reply, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    const auto end = static_cast<size_t>(got);
    for (size_t off = 0; off + sizeof(nlmsghdr) <= end;) {
      nlmsghdr h;
      std::memcpy(&h, reply + off, sizeof h);
      if (h.nlmsg_len < sizeof h || off + h.nlmsg_len > end) break;
      if (h.nlmsg_seq == seq && h.nlmsg_type == NLMSG_ERROR && h.nlmsg_len >= NLMSG_HDRLEN + sizeof(nlmsgerr)) {
        nlmsgerr e;
        std::memcpy(&e, reply + off + NLMSG_HDRLEN, sizeof e);
        if (h.nlmsg_flags & NLM_F_ACK_TLVS) {
          size_t tlv = off + NLMSG_HDRLEN + sizeof(nlmsgerr);
          if (!(h.nlmsg_flags & NLM_F_CAPPED)) tlv += align4(e.msg.nlmsg_len) - sizeof(nlmsghdr);
          const size_t msg_end = off + h.nlmsg_len;
          while (tlv + sizeof(nlattr) <= msg_end) {
            nlattr a;
            std::memcpy(&a, reply + tlv, sizeof a);
            if (a.nla_len < sizeof a || tlv + a.nla_len > msg_end) break;
            if ((a.nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
              const auto* text = reinterpret_cast<const char*>(reply + tlv + sizeof a);
              kernel_message.assign(text, strnlen(text, a.nla_len - sizeof a));
            }
            tlv += align4(a.nla_len);
          }
        }
        return e.error;
      }
      off += align4(h.nlmsg_len);
    }
  }
}

void RtNetlink::transact_or_throw(std::vector<uint8_t>& request, const std::string& what) {
  std::string kernel_message;
  const int result = transact(request, kernel_message);
  if (result == 0) return;
  std::string reason = what + ": " + errno_text(-result);
  if (!kernel_message.empty()) reason += " (" + kernel_message + ")";
  throw KernelIfError(reason);
}

void RtNetlink::set_link_up(unsigned ifindex) {
  NlMessage m(RTM_NEWLINK, 0);
  ifinfomsg info{};
  info.ifi_family = AF_UNSPEC;
  info.ifi_index = static_cast<int>(ifindex);
  info.ifi_flags = IFF_UP;
  info.ifi_change = IFF_UP;
  m.fixed_header(info);
  transact_or_throw(m.finish(), "bring up interface #" + std::to_string(ifindex));
}

void RtNetlink::disable_ipv6_autoconf(unsigned ifindex) {
  NlMessage m(RTM_NEWLINK, 0);
  ifinfomsg info{};
  info.ifi_family = AF_UNSPEC;
  info.ifi_index = static_cast<int>(ifindex);
  m.fixed_header(info);
  const size_t af_spec = m.begin_nest(IFLA_AF_SPEC);
  const size_t inet6 = m.begin_nest(AF_INET6);
  m.attr_u8(IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
  m.end_nest(inet6);
  m.end_nest(af_spec);
  transact_or_throw(m.finish(), "turn off IPv6 address generation on interface #" + std::to_string(ifindex));
}

void RtNetlink::add_address(unsigned ifindex, const KernelAddr& addr, uint8_t prefix_len) {
  NlMessage m(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);
  ifaddrmsg info{};
  info.ifa_family = static_cast<uint8_t>(addr.family);
  info.ifa_prefixlen = prefix_len;
  info.ifa_scope = RT_SCOPE_UNIVERSE;
  info.ifa_index = ifindex;
  if (addr.family == AF_INET6) info.ifa_flags = IFA_F_NODAD;
  m.fixed_header(info);
  m.attr_addr(IFA_LOCAL, addr);
  m.attr_addr(IFA_ADDRESS, addr);
  if (addr.family == AF_INET6) m.attr_u32(IFA_FLAGS, IFA_F_NODAD);
  transact_or_throw(m.finish(), "add address " + addr.to_string() + "/" + std::to_string(prefix_len) +
                                    " to interface #" + std::to_string(ifindex));
}

void RtNetlink::replace_route(uint32_t table, unsigned ifindex, const KernelAddr& dst, uint8_t dst_len,
                              const std::optional<KernelAddr>& gateway, const std::optional<KernelAddr>& prefsrc) {
  const KernelAddr net = masked(dst, dst_len);
  NlMessage m(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
  rtmsg info{};
  info.rtm_family = static_cast<uint8_t>(dst.family);
  info.rtm_dst_len = dst_len;
  info.rtm_table = table < 256 ? static_cast<uint8_t>(table) : static_cast<uint8_t>(RT_TABLE_UNSPEC);
  info.rtm_protocol = RTPROT_STATIC;
  info.rtm_scope = (gateway || dst.family == AF_INET6) ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
  info.rtm_type = RTN_UNICAST;
  m.fixed_header(info);
  m.attr_u32(RTA_TABLE, table);
  if (dst_len > 0) m.attr_addr(RTA_DST, net);
  m.attr_u32(RTA_OIF, ifindex);
  if (gateway) m.attr_addr(RTA_GATEWAY, *gateway);
  if (prefsrc) m.attr_addr(RTA_PREFSRC, *prefsrc);
  std::string what = "add route " + net.to_string() + "/" + std::to_string(dst_len);
  if (gateway) what += " via " + gateway->to_string();
  transact_or_throw(m.finish(), what + " to table " + std::to_string(table) + " on interface #" +
                                    std::to_string(ifindex));
}

void RtNetlink::add_source_rule(const KernelAddr& src, uint32_t table, uint32_t priority) {
  NlMessage m(RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL);
  m.fixed_header(source_rule_header(src, table));
  m.attr_addr(FRA_SRC, src);
  m.attr_u32(FRA_TABLE, table);
  m.attr_u32(FRA_PRIORITY, priority);
  transact_or_throw(m.finish(), "add rule 'from " + src.to_string() + " lookup " + std::to_string(table) + "'");
}

bool RtNetlink::delete_source_rule(const KernelAddr& src, uint32_t table, uint32_t priority) {
  NlMessage m(RTM_DELRULE, 0);
  m.fixed_header(source_rule_header(src, table));
  m.attr_addr(FRA_SRC, src);
  m.attr_u32(FRA_TABLE, table);
  m.attr_u32(FRA_PRIORITY, priority);
  std::string kernel_message;
  const int result = transact(m.finish(), kernel_message);
  if (result == 0) return true;
  if (result == -ENOENT) return false;
  throw KernelIfError("delete rule 'from " + src.to_string() + " lookup " + std::to_string(table) +
                      "': " + errno_text(-result));
}

// ---------------------------------------------------------------------------------------------

void KernelInterfaces::prepare(const DataplaneConfig& cfg) {
  RtNetlink netlink;
  netlink.disable_ipv6_autoconf(RtNetlink::link_index(cfg.ipv4_tap));
}

KernelInterfaces::KernelInterfaces(const DataplaneConfig& cfg) {
  const unsigned v4_if = RtNetlink::link_index(cfg.ipv4_tap);
  const unsigned v6_if = RtNetlink::link_index(cfg.ipv6_tap);
  const KernelAddr v4 = KernelAddr::v4(cfg.ipv4_address);
  const KernelAddr v6 = KernelAddr::v6(cfg.ipv6_address);
  netlink_.add_address(v4_if, v4, cfg.ipv4_prefix_len);
  netlink_.add_address(v6_if, v6, cfg.ipv6_prefix_len);
  netlink_.set_link_up(v4_if);
  netlink_.set_link_up(v6_if);
  try {
    // A rule left over by a broker that did not stop cleanly is replaced, not duplicated.
    const auto route_side = [&](unsigned ifindex, const KernelAddr& addr, uint8_t len, const KernelAddr& gateway,
                                std::optional<KernelAddr>& rule_src) {
      netlink_.replace_route(kBrokerRouteTable, ifindex, addr, len, std::nullopt, addr);
      netlink_.replace_route(kBrokerRouteTable, ifindex, any_address(addr.family), 0, gateway, addr);
      while (netlink_.delete_source_rule(addr, kBrokerRouteTable, kBrokerRulePriority)) {
      }
      netlink_.add_source_rule(addr, kBrokerRouteTable, kBrokerRulePriority);
      rule_src = addr;
    };
    if (cfg.ipv4_gateway) route_side(v4_if, v4, cfg.ipv4_prefix_len, KernelAddr::v4(*cfg.ipv4_gateway), ipv4_rule_src_);
    if (cfg.ipv6_gateway) route_side(v6_if, v6, cfg.ipv6_prefix_len, KernelAddr::v6(*cfg.ipv6_gateway), ipv6_rule_src_);
  } catch (...) {
    remove_rules();
    throw;
  }
}

KernelInterfaces::~KernelInterfaces() { remove_rules(); }

void KernelInterfaces::remove_rules() noexcept {
  for (auto* src : {&ipv4_rule_src_, &ipv6_rule_src_}) {
    if (!*src) continue;
    try {
      netlink_.delete_source_rule(**src, kBrokerRouteTable, kBrokerRulePriority);
    } catch (const KernelIfError&) {
      // Nothing better to do at teardown; a stale rule is replaced at the next start.
    }
    src->reset();
  }
}

}  // namespace tsp::dp
