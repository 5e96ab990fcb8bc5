// Runs the template script: `/bin/sh <tsp_dir>/template/<template>.sh` with the parent's
// environment plus the TSP_* variables (template_env.hpp), stdin from /dev/null, stdout and
// stderr through one pipe into the log at level 3, in its own process group, with a time
// limit after which the whole group gets SIGKILL. posix_spawn, so it is safe to call from a
// multi-threaded engine. The caller must not set SIGCHLD to SIG_IGN (the exit status would
// be lost: exit_status stays -1).
// What the exit status means is the caller's business: on creation ≠ 0 is
// ExitCode::InterfaceSetupFailed, on teardown it is only logged (protocol §8.2).
#pragma once

#include <chrono>
#include <string>

#include "tools/tspc/settings/client_log.hpp"
#include "tools/tspc/settings/template_env.hpp"
#include "tools/tspc/settings/tspc_config.hpp"

namespace tsp::tspc {

inline constexpr std::chrono::milliseconds kTemplateTimeLimit = std::chrono::seconds(60);

struct TemplateResult {
  int exit_status = -1;  // the script's exit code; 128 + signal when killed by a signal
  bool timed_out = false;
  std::string output;    // stdout + stderr, interleaved as written (at most 1 MiB kept)
};

std::string template_script_path(const TspcConfig& cfg);

// Throws std::runtime_error when the script is missing or cannot be started.
TemplateResult run_template(const TspcConfig& cfg, const TunnelInfo& info, TemplateOperation op,
                            ClientLog& log, std::chrono::milliseconds limit = kTemplateTimeLimit);

}  // namespace tsp::tspc
