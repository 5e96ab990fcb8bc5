#include "config/config_validate.hpp"

#include <algorithm>

#include "config/config_values.hpp"

namespace tsp::config {

namespace {

class Validator {
 public:
  explicit Validator(ParseState& state) : s_(state) {}

  Config run() {
    if (!s_.broker) {
      fail(0, "no tunnel broker defined (add a 'tunnel broker NAME' block with 'set tsp NAME' "
              "and 'set tunnel server NAME' under it)");
    }
    Config config;
    config.file = s_.file;
    config.pools = s_.pools;
    for (auto& draft : s_.tsps) config.tsps.push_back(finish_tsp(draft));
    for (auto& draft : s_.servers) config.servers.push_back(finish_server(draft));
    config.broker = finish_broker(*s_.broker);
    if (s_.dataplane) config.dataplane = finish_dataplane(*s_.dataplane, config.tunnel_server());
    config.store = s_.store;
    config.max_tunnels = s_.max_tunnels;
    config.max_anonymous_per_address = s_.max_anonymous_per_address;
    config.history_keep_days = s_.history_keep_days;
    config.log_level = s_.log_level;
    config.log_target = s_.log_target;
    config.admin = s_.admin;
    if (s_.metrics_per_tunnel && !s_.metrics) {
      fail(s_.metrics_per_tunnel_line, "'metrics per-tunnel' needs an endpoint: add 'metrics listen IPV4-ADDRESS PORT'");
    }
    config.metrics = s_.metrics;
    if (config.metrics) config.metrics->per_tunnel = s_.metrics_per_tunnel;
    if (s_.dns_delegation_other_line != 0 && s_.dns_delegation_file_line == 0) {
      fail(s_.dns_delegation_other_line, "'dns delegation ttl' and 'dns delegation reload' need the file: add "
                                         "'dns delegation file PATH'");
    }
    if (s_.dns_delegation_file_line != 0) config.dns_delegation = s_.dns_delegation;
    return config;
  }

 private:
  [[noreturn]] void fail(int line, std::string reason) const { throw ConfigError(s_.file, line, std::move(reason)); }

  TspConfig finish_tsp(TspDraft& draft) const {
    auto& c = draft.config;
    if (!draft.has_address) {
      fail(c.line, "tsp " + quote(c.name) + " has no 'ip address' (add '  ip address IPV4-ADDRESS' under it)");
    }
    if (!c.udp_port && !c.tcp_port) {
      fail(c.line, "tsp " + quote(c.name) +
                       " has no transport (add '  transport udp 3653' and/or '  transport tcp 3653' under it)");
    }
    if (c.auth.empty()) {
      c.auth = {AuthMechanism::ScramSha256, AuthMechanism::DigestMd5, AuthMechanism::Plain, AuthMechanism::Anonymous};
    }
    return c;
  }

  const PoolConfig& pool(const Reference& ref) const {
    for (const auto& p : s_.pools) {
      if (p.name == ref.name) return p;
    }
    fail(ref.line, "unknown pool " + quote(ref.name) + " (define it with 'ipv6 local pool " + ref.name +
                       " PREFIX BLOCK-LENGTH')");
  }

  TunnelServerConfig finish_server(TunnelServerDraft& draft) const {
    auto& c = draft.config;
    const std::string who = "tunnel server " + quote(c.name);
    if (!draft.has_address) fail(c.line, who + " has no 'ip address' (add '  ip address IPV4-ADDRESS' under it)");
    if (!draft.endpoint_pool) {
      fail(c.line, who + " has no endpoints pool (add '  ipv6 pool endpoints POOL' under it, "
                         "naming a pool of /128 blocks)");
    }
    const PoolConfig& endpoints = check_endpoint_pool(*draft.endpoint_pool);
    c.endpoint_pool = endpoints.name;

    std::vector<const PoolConfig*> prefix_pools;
    for (const auto& ref : draft.prefix_pools) {
      const PoolConfig& p = pool(ref);
      if (p.block_len > 64) {
        fail(ref.line, "pool " + quote(p.name) + " hands out /" + std::to_string(p.block_len) +
                           " blocks, but a prefix pool's blocks must be /64 or shorter (/128 addresses "
                           "belong in 'ipv6 pool endpoints')");
      }
      for (const auto* other : prefix_pools) {
        if (other->block_len == p.block_len) {
          fail(ref.line, "pools " + quote(other->name) + " and " + quote(p.name) + " both hand out /" +
                             std::to_string(p.block_len) + " blocks: a tunnel server takes one prefix pool per length");
        }
      }
      prefix_pools.push_back(&p);
      c.prefix_pools.push_back(p.name);
    }

    if (draft.ipv6_address) {
      check_server_ipv6(*draft.ipv6_address, draft.ipv6_address_line, endpoints);
      c.ipv6_address = *draft.ipv6_address;
    } else {
      c.ipv6_address = nth_subprefix(endpoints.range, 128, 1).addr;
    }
    c.dns_server = draft.dns_server.value_or(c.ipv6_address);
    return c;
  }

  const PoolConfig& check_endpoint_pool(const Reference& ref) const {
    const PoolConfig& p = pool(ref);
    if (p.block_len != 128) {
      fail(ref.line, "pool " + quote(p.name) + " hands out /" + std::to_string(p.block_len) +
                         " blocks, but the endpoints pool must hand out single addresses (block length 128, "
                         "see line " + std::to_string(p.line) + ")");
    }
    // The server takes one address and the first is the subnet-router anycast address
    // (RFC 4291 §2.6.1): a /127 or /128 leaves nothing for clients.
    if (p.range.len > 126) {
      fail(ref.line, "endpoints pool " + quote(p.name) + " (" + p.range.to_string() +
                         ") is too small: it must be a /126 or shorter to hold the server and its clients");
    }
    return p;
  }

  void check_server_ipv6(const Ipv6Addr& addr, int line, const PoolConfig& endpoints) const {
    if (!endpoints.range.contains(addr)) {
      fail(line, "ipv6 address " + addr.to_string() + " is outside the endpoints pool " + quote(endpoints.name) +
                     " (" + endpoints.range.to_string() + "): the server's tunnel endpoint must come from it");
    }
    if (addr == endpoints.range.addr) {
      fail(line, "ipv6 address " + addr.to_string() + " is the subnet-router anycast address of pool " +
                     quote(endpoints.name) + "; use another one, e.g. " +
                     nth_subprefix(endpoints.range, 128, 1).addr.to_string());
    }
  }

  BrokerConfig finish_broker(BrokerDraft& draft) const {
    auto& c = draft.config;
    const std::string who = "tunnel broker " + quote(c.name);
    if (!draft.tsp) fail(c.line, who + " has no 'set tsp' (add '  set tsp NAME' under it)");
    if (!draft.tunnel_server) fail(c.line, who + " has no 'set tunnel server' (add '  set tunnel server NAME' under it)");

    const auto tsp_named = [&](const TspDraft& d) { return d.config.name == draft.tsp->name; };
    if (std::none_of(s_.tsps.begin(), s_.tsps.end(), tsp_named)) {
      fail(draft.tsp->line, "unknown tsp " + quote(draft.tsp->name) + " (define it with a 'tsp " +
                                draft.tsp->name + "' block)");
    }
    const auto server_named = [&](const TunnelServerDraft& d) { return d.config.name == draft.tunnel_server->name; };
    if (std::none_of(s_.servers.begin(), s_.servers.end(), server_named)) {
      fail(draft.tunnel_server->line, "unknown tunnel server " + quote(draft.tunnel_server->name) +
                                          " (define it with a 'tunnel server " + draft.tunnel_server->name +
                                          "' block)");
    }
    c.tsp = draft.tsp->name;
    c.tunnel_server = draft.tunnel_server->name;
    return c;
  }

  DataplaneSection finish_dataplane(const DataplaneDraft& draft, const TunnelServerConfig& server) const {
    const DataplaneSection& c = draft.config;
    const auto require = [&](bool present, std::string_view statement, std::string_view what) {
      if (!present) {
        fail(c.line, "the dataplane block has no '" + std::string(statement) + "' (add '  " + std::string(statement) +
                         " " + std::string(what) + "' under it)");
      }
    };
    require(draft.ipv4_port_line != 0, "port ipv4", "DEVICE");
    require(draft.ipv6_port_line != 0, "port ipv6", "DEVICE");
    require(draft.ipv4_address_line != 0, "ipv4 address", "IPV4-ADDRESS/LENGTH");
    require(draft.ipv6_address_line != 0, "ipv6 address", "IPV6-ADDRESS/LENGTH");
    if (c.ipv4_port == c.ipv6_port) {
      fail(draft.ipv6_port_line, "port ipv6 " + quote(c.ipv6_port) + " is also the ipv4 port (line " +
                                     std::to_string(draft.ipv4_port_line) + "): each side needs its own DPDK port");
    }
    if (c.ipv4_tap == c.ipv6_tap) {
      fail(std::max(draft.ipv4_tap_line, draft.ipv6_tap_line),
           "tap ipv4 and tap ipv6 are both " + quote(c.ipv4_tap) + ": each side needs its own tap interface");
    }
    // The taps carry the address tunnels end on, and the control plane's sockets bind to it.
    if (!(c.ipv4_address == server.address)) {
      fail(draft.ipv4_address_line, "dataplane ipv4 address " + c.ipv4_address.to_string() +
                                        " differs from the ip address of tunnel server " + quote(server.name) + " (" +
                                        server.address.to_string() + ", line " + std::to_string(server.line) +
                                        "): they must be the same address");
    }
    if (c.ipv4_gateway) check_ipv4_gateway(*c.ipv4_gateway, draft.ipv4_gateway_line, c);
    if (c.ipv6_gateway) check_ipv6_gateway(*c.ipv6_gateway, draft.ipv6_gateway_line, c);
    return c;
  }

  // A next hop must be on the tap's subnet and not the broker itself.
  void check_ipv4_gateway(Ipv4Addr gateway, int line, const DataplaneSection& c) const {
    const uint32_t mask = c.ipv4_prefix_len == 0 ? 0 : ~uint32_t{0} << (32 - c.ipv4_prefix_len);
    const std::string subnet = c.ipv4_address.to_string() + "/" + std::to_string(c.ipv4_prefix_len);
    if (gateway == c.ipv4_address) fail(line, "ipv4 gateway " + gateway.to_string() + " is the broker's own address");
    if ((gateway.value & mask) != (c.ipv4_address.value & mask)) {
      fail(line, "ipv4 gateway " + gateway.to_string() + " is not on the ipv4 address's subnet (" + subnet + ")");
    }
  }

  void check_ipv6_gateway(const Ipv6Addr& gateway, int line, const DataplaneSection& c) const {
    const bool link_local = gateway.bytes[0] == 0xFE && (gateway.bytes[1] & 0xC0) == 0x80;
    const Ipv6Prefix subnet{c.ipv6_address.masked(c.ipv6_prefix_len), c.ipv6_prefix_len};
    if (gateway == c.ipv6_address) fail(line, "ipv6 gateway " + gateway.to_string() + " is the broker's own address");
    if (!link_local && !subnet.contains(gateway)) {
      fail(line, "ipv6 gateway " + gateway.to_string() + " is neither link-local nor on the ipv6 address's subnet (" +
                     subnet.to_string() + ")");
    }
  }

  ParseState& s_;
};

}  // namespace

Config finish_config(ParseState&& state) { return Validator(state).run(); }

}  // namespace tsp::config
