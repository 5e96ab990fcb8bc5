// tspc's life (tsp-protocol.md §4.2, §8.3): connect, run the tunnel, and after a failure or a
// keepalive time-out try again after retry_delay (doubled every 3 failures, capped at
// retry_delay_max), for ever, unless boot mode (-b) or auto_retry_connect=no end the run
// with the failure's exit code.
#pragma once

#include "tools/tspc/settings/client_log.hpp"
#include "tools/tspc/settings/exit_codes.hpp"
#include "tools/tspc/settings/tspc_config.hpp"
#include "tools/tspc/tunnel_runtime.hpp"

namespace tsp::tspc {

struct ClientRunEnd {
  ExitCode code = ExitCode::Success;
  int terminating_signal = 0;  // SIGTERM/SIGINT: main re-raises it after cleaning up
};

ClientRunEnd run_client(const TspcConfig& cfg, bool boot_mode, ClientLog& log, const StopSignals& signals);

}  // namespace tsp::tspc
