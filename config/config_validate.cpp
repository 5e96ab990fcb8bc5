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
    config.store = s_.store;
    config.max_tunnels = s_.max_tunnels;
    config.log_level = s_.log_level;
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
    if (c.auth.empty()) c.auth = {AuthMechanism::DigestMd5, AuthMechanism::Plain, AuthMechanism::Anonymous};
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

  ParseState& s_;
};

}  // namespace

Config finish_config(ParseState&& state) { return Validator(state).run(); }

}  // namespace tsp::config
