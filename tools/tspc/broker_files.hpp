// The client's memory of brokers between runs (tsp-protocol.md §6): two small text files
// named in tspc.conf, relative to the working directory as gogoc's are.
//   broker_list: the brokers of the last redirection, nearest first, one address per line;
//     walked when the configured server cannot be reached.
//   last_server: the broker that last gave a tunnel, one line, as configured or as listed;
//     tried first with always_use_same_server=yes.
// Both are rewritten whole (a temporary file beside them, then rename), so a crash or a full
// disk leaves the old file or the new one, never half of one.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "tools/tspc/settings/tspc_config.hpp"

namespace tsp::tspc {

inline constexpr size_t kMaxListedBrokers = 50;      // as a redirection's list (§6)
inline constexpr size_t kMaxBrokerAddressLen = 254;  // likewise, per address

struct BrokerFile {
  enum class State { Missing, Read, Invalid };
  State state = State::Missing;
  std::vector<ServerAddress> brokers;  // when Read: at least one
  std::string problem;                 // when Invalid: "<path>:<line>: <why>" or "<path>: <why>"
};

// Blank lines, surrounding blanks and CRs are ignored; every other line must be an address
// as tspc.conf's `server` takes it (host, host:port, a.b.c.d[:port], [ipv6][:port]).
// read_last_server wants exactly one.
BrokerFile read_broker_list(const std::string& path);
BrokerFile read_last_server(const std::string& path);

// "" when saved, else why not (the caller logs it: a client without these files still works).
std::string save_broker_list(const std::string& path, const std::vector<std::string>& brokers);
std::string save_last_server(const std::string& path, const std::string& server);

}  // namespace tsp::tspc
