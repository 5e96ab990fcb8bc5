// The daemon's log: levels, to stderr (timestamped; systemd's journal collects it) or to
// syslog (ident "tspbrokerd", the configured facility). One logger for the process whose
// destination a reload may switch without a restart.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/broker_config.hpp"

namespace tsp::daemon {

// Makes the "tspbrokerd" logger the default one. Call once, before other threads log.
void setup_logging(const config::LogTarget& target, const std::string& level);

// A reload: switches the destination and the level (thread-safe with concurrent logging).
void apply_log_settings(const config::LogTarget& target, const std::string& level);

// "daemon", "user", "local0".."local7" -> LOG_DAEMON, ...; nullopt for anything else.
std::optional<int> syslog_facility(std::string_view name);

}  // namespace tsp::daemon
