#include "control/dns/reverse_zone.hpp"

#include <algorithm>

namespace tsp::dns {

namespace {
bool is_ldh(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// Absolute and lower case: how the records write a name server.
std::string absolute_name(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 1);
  for (char c : name) out += lower(c);
  if (out.empty() || out.back() != '.') out += '.';
  return out;
}

unsigned nibble_at(const Ipv6Addr& a, unsigned i) {  // i-th nibble from the left
  const uint8_t byte = a.bytes[i / 2];
  return i % 2 == 0 ? byte >> 4 : byte & 0x0F;
}
}  // namespace

bool valid_name_server(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > 253) return false;
  size_t labels = 0;
  while (true) {
    const size_t dot = name.find('.');
    const std::string_view label = name.substr(0, dot);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    if (!std::all_of(label.begin(), label.end(), is_ldh)) return false;
    ++labels;
    if (dot == std::string_view::npos) break;
    name.remove_prefix(dot + 1);
  }
  return labels >= 2;
}

std::vector<std::string> reverse_zones(const Ipv6Prefix& prefix) {
  if (prefix.len == 0 || prefix.len > 124) return {};
  const unsigned nibbles = (prefix.len + 3u) / 4u;
  const unsigned free_bits = nibbles * 4u - prefix.len;  // of the last nibble, which the prefix leaves open
  std::string common;  // the nibbles before the last, reversed: "n(k-2).n(k-3)....n0.ip6.arpa."
  for (unsigned i = nibbles - 1; i-- > 0;) {
    common += "0123456789abcdef"[nibble_at(prefix.addr, i)];
    common += '.';
  }
  common += "ip6.arpa.";
  std::vector<std::string> zones;
  const unsigned last = nibble_at(prefix.addr, nibbles - 1);  // its free bits are 0 (the prefix is masked)
  for (unsigned v = 0; v < (1u << free_bits); ++v) {
    std::string zone(1, "0123456789abcdef"[last | v]);
    zone += '.';
    zone += common;
    zones.push_back(std::move(zone));
  }
  return zones;
}

std::string join_stored_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ':';
    out += n;
  }
  return out;
}

std::vector<std::string> split_stored_names(std::string_view joined) {
  std::vector<std::string> out;
  while (!joined.empty()) {
    const size_t colon = joined.find(':');
    if (colon != 0) out.emplace_back(joined.substr(0, colon));
    if (colon == std::string_view::npos) break;
    joined.remove_prefix(colon + 1);
  }
  return out;
}

RenderedZone render_delegations(const DelegationList& delegations, uint32_t ttl) {
  RenderedZone out;
  std::vector<const Delegation*> order;
  order.reserve(delegations.size());
  for (const auto& d : delegations) order.push_back(d.get());
  std::sort(order.begin(), order.end(),
            [](const Delegation* a, const Delegation* b) { return prefix_before(a->prefix, b->prefix); });
  const std::string ttl_text = " " + std::to_string(ttl) + " IN NS ";
  std::string records;
  std::vector<std::string> servers;
  for (size_t i = 0; i < order.size();) {
    servers.clear();
    size_t next = i;
    for (; next < order.size() && order[next]->prefix == order[i]->prefix; ++next) {
      for (const auto& name : order[next]->name_servers) {
        if (valid_name_server(name)) {
          servers.push_back(absolute_name(name));
        } else {
          ++out.skipped_names;
        }
      }
    }
    std::sort(servers.begin(), servers.end());
    servers.erase(std::unique(servers.begin(), servers.end()), servers.end());
    if (!servers.empty()) {
      for (const auto& zone : reverse_zones(order[i]->prefix)) {
        ++out.zones;
        for (const auto& server : servers) {
          records += zone;
          records += ttl_text;
          records += server;
          records += '\n';
        }
      }
    }
    i = next;
  }
  out.text = "; Reverse delegations of the tunnel broker's routed prefixes, written by tspbrokerd.\n"
             "; Rewritten whole on every change: do not edit. $INCLUDE it in the parent ip6.arpa zone.\n";
  out.text += "; " + std::to_string(out.zones) + " zone(s) delegated\n";
  out.text += records;
  return out;
}

}  // namespace tsp::dns
