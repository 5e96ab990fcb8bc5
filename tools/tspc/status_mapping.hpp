// What a broker's status code means for tspc (tsp-protocol.md §4.1, exit codes §8.3): the same
// code is read differently at different steps, as gogoc does (302 and 530 only mean
// "version" and "busy" as the answer to VERSION; 300 is an authentication failure only for
// PLAIN and DIGEST-MD5).
#pragma once

#include <string_view>

#include "tools/tspc/settings/exit_codes.hpp"

namespace tsp::tspc {

enum class NegotiationStep { Version, AnonymousAuth, PasswordAuth, TunnelRequest, Accept };

std::string_view to_string(NegotiationStep s);

// gogoc's tspIsRedirectStatus(): any code above 1000 (brokers use 1200).
constexpr bool is_redirect_status(int status) { return status > 1000; }

// The exit code a non-200 status gives at `step`. Redirects are handled before this is asked
// (BrokerRedirection names a malformed one).
ExitCode exit_code_for_status(NegotiationStep step, int status);

}  // namespace tsp::tspc
