// The TSP dialogue of gogoc 1.2 (tsp-protocol.md §1.6-§3.4), run against a broker anywhere on
// IPv4: VERSION, CAPABILITY, AUTHENTICATE (ANONYMOUS, or DIGEST-MD5 before PLAIN as gogoc's
// `any` chooses), the create request, the offer, the accept. Message bytes come from the e2e
// test client (tests/e2e/tsp_messages.hpp, gogoc_digest_md5.hpp).
#pragma once

#include <optional>
#include <string>

#include "tests/e2e/tsp_messages.hpp"
#include "tests/netns/control_channel.hpp"

namespace tsp::netns {

struct NegotiationSettings {
  Endpoint server;
  std::string server_setting;  // gogoc's server= text: the DIGEST-MD5 digest-uri is "tsp/" + this
  Ipv4Addr bind;               // 0.0.0.0: the kernel picks the source address
  bool over_tcp = false;
  std::string mode = "v6anyv4";                  // v6v4 | v6udpv4 | v6anyv4
  std::optional<std::string> user, password;     // no user: ANONYMOUS
  std::optional<Ipv4Addr> declared_ipv4;         // default: the session socket's own address
  std::optional<unsigned> router_prefix_length;  // set: host_type=router
  unsigned keepalive_interval = 30;
};

struct Offer {
  std::string type;  // v6v4 | v6udpv4
  Ipv4Addr server_ipv4, client_ipv4;
  Ipv6Addr server_ipv6, client_ipv6;
  std::optional<Ipv6Prefix> prefix;      // routers only
  unsigned keepalive_interval = 0;       // 0: no keepalives
  std::optional<Ipv6Addr> keepalive_address;
};

struct NegotiatedTunnel {
  Offer offer;
  Endpoint local;                     // the session socket's address and port
  std::unique_ptr<ControlChannel> channel;  // keep it: v6udpv4 data uses its socket
};

// Throws NegotiationError naming the step and quoting the broker's answer.
NegotiatedTunnel negotiate(const NegotiationSettings& settings);

// Reads the offer fields into addresses; a prefix may be written expanded or cut after its
// significant groups, as gogoc's TSP_PREFIX is. Throws NegotiationError on anything unreadable.
Offer read_offer(const e2e::OfferFields& fields);

}  // namespace tsp::netns
