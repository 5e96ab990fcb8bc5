// tspbrokerd: the tunnel broker daemon.
//   tspbrokerd [--config FILE]                  run (the embedded defaults without --config)
//   tspbrokerd --check-config [--config FILE]   validate and exit: 0, or 1 with file:line: reason
// The daemon itself is control/daemon/broker_daemon.*; this file reads the command line and
// the configuration, sets up logging and reports why the daemon could not start.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <boost/system/system_error.hpp>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>

#include "config/broker_config.hpp"
#include "control/daemon/broker_daemon.hpp"
#include "control/daemon/daemon_logging.hpp"
#include "control/store/store.hpp"
#include "shared/fd_limit.hpp"

int main(int argc, char** argv) {
  CLI::App app{"tspbrokerd: IPv6 tunnel broker (TSP, RFC 5572)"};
  std::string config_path;
  bool check_only = false;
  app.add_option("-c,--config", config_path, "configuration file (default: the embedded defaults)");
  app.add_flag("--check-config", check_only, "validate the configuration and exit");
  app.set_version_flag("--version", "tspbrokerd 0.1.0");
  CLI11_PARSE(app, argc, argv);

  std::optional<tsp::config::Config> cfg;
  try {
    cfg = config_path.empty() ? tsp::config::parse_config(tsp::config::embedded_default_config(), "<embedded>")
                              : tsp::config::load_config_file(config_path);
  } catch (const tsp::config::ConfigError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  if (check_only) {
    std::printf("%s: configuration OK\n", config_path.empty() ? "<embedded>" : config_path.c_str());
    return 0;
  }
  tsp::raise_fd_limit_to_hard();  // one descriptor per client
  tsp::daemon::setup_logging(cfg->log_target, cfg->log_level);
  try {
    tsp::daemon::BrokerDaemon daemon(std::move(*cfg), config_path);
    return daemon.run();
  } catch (const tsp::store::StoreError& e) {
    spdlog::critical("store: {}", e.what());
  } catch (const boost::system::system_error& e) {
    spdlog::critical("cannot start: {}", e.what());
  } catch (const std::runtime_error& e) {
    spdlog::critical("dataplane: {}", e.what());  // what Dataplane::start throws
  }
  return 1;
}
