// Which SASL mechanism tspc uses (tsp-protocol.md §2.1): `anonymous` only ANONYMOUS; the other
// settings the first mechanism both allowed and advertised, strongest first. PASSDSS-3DES-1 is
// not implemented; SCRAM-SHA-256 (offered by tspbrokerd, not by legacy brokers) is ours, so
// `any` goes SCRAM-SHA-256 > DIGEST-MD5 > PLAIN and never falls back to ANONYMOUS, as gogoc. `anonymous` is uses_anonymous(cfg): also `any` with no userid (classic tspc habit).
#pragma once

#include <optional>
#include <string_view>

#include "tools/tspc/reply_parser.hpp"
#include "tools/tspc/settings/tspc_config.hpp"

namespace tsp::tspc {

enum class Mechanism { Anonymous, ScramSha256, DigestMd5, Plain };

std::string_view to_string(Mechanism m);

// nullopt: no common mechanism (ExitCode NO_COMMON_AUTHENTICATION).
std::optional<Mechanism> choose_mechanism(AuthMethod configured, bool anonymous, const Capabilities& offered);

}  // namespace tsp::tspc
