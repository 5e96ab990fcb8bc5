// tspc's command line: the classic single-dash flags, parsed by hand.
//   -v/-vv/-vvv  verbosity 1..3 (stderr level, and the log file's level at least that)
//   -i IF  if_tunnel_v6v4        -u IF  if_tunnel_v6udpv4      -s IF  if_prefix
//   -f FILE config (tspc.conf)   -r SECONDS retry_delay (honoured, unlike gogoc)
//   -n foreground   -b boot mode   -y accepted, no effect (PASSDSS is not supported)
//   -h/-?/--help usage and version
// Flags combine (-nvv), values may be attached (-ftspc.conf) or the next argument.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>

#include "tools/tspc/settings/tspc_config.hpp"

namespace tsp::tspc {

struct CommandLine {
  int verbosity = 0;  // 0: not given, use the file's log_stderr
  std::string config_file = "tspc.conf";
  std::optional<std::string> if_tunnel_v6v4, if_tunnel_v6udpv4, if_prefix;
  std::optional<unsigned> retry_delay;
  bool foreground = false, boot = false, help = false;
};

// what() is one line for stderr; print usage_text() after it and exit with
// ExitCode::UsageError (1).
struct CommandLineError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

CommandLine parse_command_line(int argc, const char* const* argv);  // throws CommandLineError
// Version line, options and exit codes.
std::string usage_text();
std::string_view tspc_version();
// Copies what the command line sets into the config; call validate() afterwards.
void apply_overrides(const CommandLine& cl, TspcConfig& cfg);
// load_tspc_config(cl.config_file) + apply_overrides + validate; throws ConfigError.
TspcConfig load_with_overrides(const CommandLine& cl);

}  // namespace tsp::tspc
