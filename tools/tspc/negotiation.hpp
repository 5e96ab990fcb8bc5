// One TSP dialogue on an open control channel, as gogoc 1.2 speaks it (tsp-protocol.md §1.6,
// §1.7, §2, §3): VERSION, CAPABILITY, AUTHENTICATE, the create request, the offer and the
// accept. Socket-free: it talks through ControlTransport, so tests script the broker.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "control/xml/tunnel_xml.hpp"
#include "tools/tspc/control_transport.hpp"
#include "tools/tspc/settings/exit_codes.hpp"
#include "tools/tspc/settings/tspc_config.hpp"

namespace tsp::tspc {

struct NegotiationContext {
  std::string_view version;      // "2.0.2" ...
  std::string_view server_text;  // digest-uri host: the server setting as written
  std::string cnonce;            // DIGEST-MD5 client nonce (gogoc: decimal unix time)
  LogFn log;                     // level 3 gets every message, credentials masked
};

struct NegotiationOutcome {
  enum class Kind { Tunnel, Redirect, Failed };
  Kind kind = Kind::Failed;
  ExitCode code = ExitCode::TspGenericError;  // for Failed
  std::string message;                        // for Failed: what went wrong, for the log
  xml::ParsedOffer offer;                     // for Tunnel
  Ipv4Addr declared_v4;                       // for Tunnel: the IPv4 the request declared
  std::vector<std::string> brokers;           // for Redirect: in the order the broker gave
};

// Never throws for what the broker says; a dead transport gives Failed with
// SocketConnectFailed (nothing answered VERSION) or SocketIo (later).
NegotiationOutcome negotiate(ControlTransport& transport, const TspcConfig& cfg, const NegotiationContext& context);

// For -vvv logs: control characters made visible ("\r" dropped, NUL as "\0"), at most 2000
// characters.
std::string printable_message(std::string_view message);

}  // namespace tsp::tspc
