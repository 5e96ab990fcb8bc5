#include "tools/tspc/status_mapping.hpp"

namespace tsp::tspc {

std::string_view to_string(NegotiationStep s) {
  switch (s) {
    case NegotiationStep::Version: return "VERSION";
    case NegotiationStep::AnonymousAuth: return "AUTHENTICATE ANONYMOUS";
    case NegotiationStep::PasswordAuth: return "authentication";
    case NegotiationStep::TunnelRequest: return "tunnel request";
    case NegotiationStep::Accept: return "tunnel accept";
  }
  return "?";
}

ExitCode exit_code_for_status(NegotiationStep step, int status) {
  if (status == 200) return ExitCode::Success;
  if (is_redirect_status(status)) return ExitCode::BrokerRedirection;
  switch (step) {
    case NegotiationStep::Version:
      if (status == 302) return ExitCode::InvalidTspVersion;
      if (status == 530) return ExitCode::ServerTooBusy;
      break;
    case NegotiationStep::PasswordAuth:
      if (status == 300) return ExitCode::AuthenticationFailure;
      break;
    case NegotiationStep::AnonymousAuth:
    case NegotiationStep::TunnelRequest:
    case NegotiationStep::Accept:
      break;
  }
  return ExitCode::TspGenericError;
}

}  // namespace tsp::tspc
