// Runs many emulated TSP clients against a broker over real sockets: one non-blocking socket
// per client (its own source address and port), at most `concurrency` sessions in flight,
// one epoll loop per thread. Each client runs its ClientDialogue to a completed accept.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "perf/tsp_load/client_dialogue.hpp"
#include "perf/tsp_load/load_stats.hpp"
#include "shared/net_types.hpp"

namespace tsp::load {

struct LoadPlan {
  Ipv4Addr server{0x7f000001};
  uint16_t port = 3653;
  size_t clients = 1000;
  size_t first_index = 0;  // client i is number first_index + i: user name and source address
  size_t concurrency = 256;
  unsigned threads = 1;
  // The mix: client i takes transports[i % T], auths[(i / T) % A], host_types[(i / T / A) % H].
  // An anonymous client never asks for a router prefix (the broker refuses it): it is a host.
  std::vector<Transport> transports{Transport::Udp};
  std::vector<AuthKind> auths{AuthKind::Anonymous};
  std::vector<HostType> host_types{HostType::Host};
  std::string tunnel_type = "v6anyv4";
  unsigned prefix_length = 64;
  std::string user_prefix = "load";
  std::string password = "load-password";
  // Each client sends from its own address: source_base + first_index + i (on loopback every
  // 127/8 address is local), so each one is a distinct proto-41 endpoint.
  Ipv4Addr source_base{0x7f100000};  // 127.16.0.0
  bool behind_nat = false;  // declare 10.x.y.z instead of the source: the broker sees a NAT
  TcpFinish tcp_finish = TcpFinish::EchoConfirm;
  unsigned udp_rto_ms = 1000;   // retransmit an unanswered datagram after this
  unsigned udp_tries = 3;       // transmissions before a UDP session times out
  unsigned tcp_timeout_ms = 5000;
};

// The spec of client number first_index + i (exposed for tests).
ClientSpec client_spec(const LoadPlan& plan, size_t i);
GroupKey group_of(const ClientSpec& spec);

// Runs the plan. Throws std::runtime_error when the run cannot start (epoll, fd limit).
RunReport run_load(const LoadPlan& plan);

}  // namespace tsp::load
