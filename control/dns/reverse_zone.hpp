// Reverse DNS delegation of routed prefixes (DESIGN.md "the control plane"): a router client
// names its own name servers in <router><dns_server><address type="dn"> (tsp-protocol.md §3.4
// (b)), and the broker delegates the ip6.arpa zone of its prefix to them with NS records.
// This file is the pure part: which names a client may give, which zones a prefix covers and
// the text of the records. delegation_writer.hpp puts that text where a name server reads it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "shared/net_types.hpp"

namespace tsp::dns {

// A host name a delegation may point at: letters, digits and hyphens in labels of 1-63
// characters that neither start nor end with a hyphen, at least two labels, at most 253
// characters, one trailing dot allowed. Everything else (spaces, ';', quotes, line ends,
// '*', '@', empty labels, address literals written as names...) is refused: the text goes
// into a zone file, where any of those would change what the file says.
bool valid_name_server(std::string_view name);

// The ip6.arpa zones that delegate exactly `prefix`: one for a length that is a multiple of
// 4 (a nibble boundary), else the 2, 4 or 8 zones one nibble longer that cover it (a /62 is
// four /64 zones). Absolute names, lower case, each ending in "ip6.arpa.". None for /0 or a
// prefix longer than /124 (a host has nothing to delegate).
std::vector<std::string> reverse_zones(const Ipv6Prefix& prefix);

// One routed prefix and the name servers its client named.
struct Delegation {
  Ipv6Prefix prefix;
  std::vector<std::string> name_servers;  // as the client sent them, valid or not
};
// Shared, not copied: TunnelService hands out its live set under its mutex, which sessions
// wait for (copying 100,000 delegations' strings took 10 ms there; the pointers take 1).
using DelegationList = std::vector<std::shared_ptr<const Delegation>>;

// One delegation came, changed or went: what TunnelService reports, under its mutex, so that
// the writer can follow without copying the whole set there. A live prefix belongs to one
// tunnel, so the prefix names it; applied in order, the last change of a prefix is its state.
struct DelegationChange {
  Ipv6Prefix prefix;
  std::shared_ptr<const Delegation> now;  // null: no longer delegated
};

// The zone file's order: by address, then length.
inline bool prefix_before(const Ipv6Prefix& a, const Ipv6Prefix& b) {
  return a.addr.bytes != b.addr.bytes ? a.addr.bytes < b.addr.bytes : a.len < b.len;
}

// The client's names as the store keeps them (TunnelRecord::dns_names): ':'-joined, which
// cannot be ambiguous for the names the broker accepts (valid_name_server has no ':').
std::string join_stored_names(const std::vector<std::string>& names);
std::vector<std::string> split_stored_names(std::string_view joined);

// The NS records of every delegation, one per line, "ZONE TTL IN NS NAME.", in the order of
// the prefixes then the names, so that the same set always gives the same text, after a
// comment header that says what wrote it and how many zones it delegates. Names
// valid_name_server refuses are left out (a record kept from before that check); a delegation
// left with none is left out whole. Two delegations of one prefix share its records.
struct RenderedZone {
  std::string text;
  size_t zones = 0;           // zones delegated
  size_t skipped_names = 0;   // names left out as invalid
};
RenderedZone render_delegations(const DelegationList& delegations, uint32_t ttl);

}  // namespace tsp::dns
