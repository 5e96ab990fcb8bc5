// The configuration tspbrokerd uses without --config: a broker on loopback with pools in
// the documentation prefix 2001:db8::/32, enough to try it out on one machine.
#include "config/broker_config.hpp"

namespace tsp::config {

std::string_view embedded_default_config() {
  static constexpr std::string_view text = R"(# tspbrokerd built-in configuration (used when no --config is given)
ipv6 local pool P_Endpoints 2001:db8:f001:1::/64 128
ipv6 local pool P_Sites48 2001:db8:f100::/40 48
ipv6 local pool P_Sites64 2001:db8:f200::/48 64
tsp TSP_Main
  ip address 127.0.0.1
  transport udp 3653
  transport tcp 3653
  authentication scram-sha-256 digest-md5 plain anonymous
tunnel server TS_Main
  ip address 127.0.0.1
  ipv6 pool endpoints P_Endpoints
  ipv6 pool prefix P_Sites48
  ipv6 pool prefix P_Sites64
tunnel broker TB_Main
  set tsp TSP_Main
  set tunnel server TS_Main
store sqlite tspbroker.db
)";
  return text;
}

}  // namespace tsp::config
