// TSP status codes (RFC 5572 and the legacy clients' table, tsp-protocol.md §4): one table
// for the session logic, the logs and the tests.
#pragma once

#include <string>
#include <string_view>

namespace tsp {

enum class Status : int {
  Success = 200,
  AuthenticationFailed = 300,
  NoMoreTunnels = 301,
  UnsupportedVersion = 302,
  UnsupportedTunnelType = 303,
  ServerError = 310,
  InvalidRequest = 500,
  InvalidIpv4 = 501,
  InvalidIpv6 = 502,
  Ipv4AlreadyUsed = 506,
  PrefixLengthUnavailable = 507,
  DnsDelegationError = 509,
  UnsupportedPrefixLength = 518,
  MissingPrefixLength = 520,
  RequestInProgress = 521,
  PrefixForAnonymous = 522,
  ServerTooBusy = 530,
  Redirect = 1200,
};

constexpr std::string_view status_text(Status s) {
  switch (s) {
    case Status::Success: return "Success";
    case Status::AuthenticationFailed: return "Authentication failed";
    case Status::NoMoreTunnels: return "No more tunnels available";
    case Status::UnsupportedVersion: return "Unsupported client version";
    case Status::UnsupportedTunnelType: return "Unsupported tunnel type";
    case Status::ServerError: return "Server side error";
    case Status::InvalidRequest: return "Invalid request format";
    case Status::InvalidIpv4: return "Invalid IPv4 address";
    case Status::InvalidIpv6: return "Invalid IPv6 address";
    case Status::Ipv4AlreadyUsed: return "IPv4 address already used by another tunnel";
    case Status::PrefixLengthUnavailable: return "Requested prefix length unavailable";
    case Status::DnsDelegationError: return "DNS delegation error";
    case Status::UnsupportedPrefixLength: return "Unsupported prefix length";
    case Status::MissingPrefixLength: return "Missing prefix length";
    case Status::RequestInProgress: return "Request already in progress";
    case Status::PrefixForAnonymous: return "Prefix requested by anonymous client";
    case Status::ServerTooBusy: return "Server too busy";
    case Status::Redirect: return "Redirection";
  }
  return "Unknown status";
}

// "NNN Text\r\n": the client atoi()s the leading digits.
inline std::string status_line(Status s) {
  std::string out = std::to_string(static_cast<int>(s));
  out += ' ';
  out += status_text(s);
  out += "\r\n";
  return out;
}

}  // namespace tsp
