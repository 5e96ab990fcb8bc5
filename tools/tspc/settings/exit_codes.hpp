// tspc's exit status: the low 8 bits of the classic gogoc status numbers (protocol notes
// §8.3), so scripts written for gogoc/tspc keep working. One table, read by describe(), the
// usage text and the README.
//
// README section "Exit codes" (tspc):
//   0  success (with -b: the tunnel ran and was torn down on SIGHUP; without -n: daemonised)
//   1  bad command line (usage printed on stderr)
//   2  out of memory                       13 the broker answered an unexpected status
//   3  bad configuration file              14 broker redirection failed or was malformed
//   4  bad server address                  15 tunnel mode not offered by the broker
//   5  bad client address                  16 authentication failed (wrong userid/passwd)
//   6  log could not be opened             17 no authentication method in common
//   7  last_server file could not be used  18 the template script failed on creation
//   8  server name did not resolve         19 the broker's offer was missing or bad
//   9  could not connect to the broker     20 keepalive could not be sent
//  10  socket I/O error                    21 keepalive replies stopped (time-out)
//  11  no TSP version in common            22 tunnel lease expired
//  12  broker too busy                     23 tunnel I/O error
#pragma once

#include <array>
#include <string_view>

namespace tsp::tspc {

enum class ExitCode : int {
  Success = 0,
  UsageError = 1,
  MemoryStarvation = 2,
  InvalidConfigFile = 3,
  InvalidServerAddress = 4,
  InvalidClientAddress = 5,
  LogInitFailed = 6,
  LastServerFailed = 7,
  ResolveFailed = 8,
  SocketConnectFailed = 9,
  SocketIo = 10,
  InvalidTspVersion = 11,
  ServerTooBusy = 12,
  TspGenericError = 13,
  BrokerRedirection = 14,
  TunnelModeNotAvailable = 15,
  AuthenticationFailure = 16,
  NoCommonAuthentication = 17,
  InterfaceSetupFailed = 18,
  BadTunnelParam = 19,
  KeepaliveError = 20,
  KeepaliveTimeout = 21,
  TunnelLeaseExpired = 22,
  TunnelIo = 23,
};

struct ExitCodeInfo {
  ExitCode code;
  std::string_view gogoc_name;   // the classic status name, for people grepping old docs
  std::string_view description;
};

inline constexpr std::array<ExitCodeInfo, 24> kExitCodes = {{
    {ExitCode::Success, "SUCCESS", "success"},
    {ExitCode::UsageError, "-", "bad command line"},
    {ExitCode::MemoryStarvation, "MEMORY_STARVATION", "out of memory"},
    {ExitCode::InvalidConfigFile, "INVAL_CFG_FILE", "bad configuration file"},
    {ExitCode::InvalidServerAddress, "INVAL_GOGOC_ADDRESS", "bad server address"},
    {ExitCode::InvalidClientAddress, "INVAL_CLIENT_ADDR", "bad client address"},
    {ExitCode::LogInitFailed, "FAIL_LOG_INIT", "the log could not be opened"},
    {ExitCode::LastServerFailed, "FAIL_LAST_SERVER", "the last_server file could not be used"},
    {ExitCode::ResolveFailed, "FAIL_RESOLV_ADDR", "the server name did not resolve"},
    {ExitCode::SocketConnectFailed, "FAIL_SOCKET_CONNECT", "could not connect to the broker"},
    {ExitCode::SocketIo, "SOCKET_IO", "socket I/O error"},
    {ExitCode::InvalidTspVersion, "INVAL_TSP_VERSION", "no TSP version in common with the broker"},
    {ExitCode::ServerTooBusy, "TSP_SERVER_TOO_BUSY", "the broker is too busy"},
    {ExitCode::TspGenericError, "TSP_GENERIC_ERROR", "the broker answered an unexpected status"},
    {ExitCode::BrokerRedirection, "BROKER_REDIRECTION", "broker redirection failed"},
    {ExitCode::TunnelModeNotAvailable, "TUNMODE_NOT_AVAILABLE", "the tunnel mode is not offered by the broker"},
    {ExitCode::AuthenticationFailure, "AUTHENTICATION_FAILURE", "authentication failed"},
    {ExitCode::NoCommonAuthentication, "NO_COMMON_AUTHENTICATION", "no authentication method in common"},
    {ExitCode::InterfaceSetupFailed, "INTERFACE_SETUP_FAILED", "the template script failed"},
    {ExitCode::BadTunnelParam, "BAD_TUNNEL_PARAM", "the broker's tunnel offer is missing or bad"},
    {ExitCode::KeepaliveError, "KEEPALIVE_ERROR", "keepalive could not be sent"},
    {ExitCode::KeepaliveTimeout, "KEEPALIVE_TIMEOUT", "keepalive replies stopped"},
    {ExitCode::TunnelLeaseExpired, "TUN_LEASE_EXPIRED", "the tunnel lease expired"},
    {ExitCode::TunnelIo, "TUNNEL_IO", "tunnel I/O error"},
}};

constexpr std::string_view describe(ExitCode code) {
  for (const auto& info : kExitCodes)
    if (info.code == code) return info.description;
  return "unknown exit code";
}

constexpr int to_int(ExitCode code) { return static_cast<int>(code); }

}  // namespace tsp::tspc
