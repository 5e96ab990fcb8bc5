// What a reload of the configuration may change while the broker runs, and what needs a
// restart: sockets already bound (TSP address and ports, admin socket, metrics endpoint), the
// tunnel server's addresses that live tunnels carry, the dataplane, the store and the table.
// Pools are checked by TunnelService::reconfigure, which knows which ones live tunnels use.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/broker_config.hpp"

namespace tsp::daemon {

// The first reason the running configuration cannot become `next` without a restart, as
// "<file>:<line>: '<statement>' changed (<old> -> <new>): needs a restart", or nullopt.
// `next_text` is the text `next` was parsed from (for the statement's own line).
std::optional<std::string> restart_needed(const config::Config& running, const config::Config& next,
                                          std::string_view next_text);

// One line per setting that a reload changes (for the log).
std::vector<std::string> reload_changes(const config::Config& running, const config::Config& next);

// The line of the first statement starting with `keyword` (case-insensitive) inside the block
// opened at `block_line` (its indented lines), or at top level when `block_line` is 0.
// Returns `block_line` when none is found.
int statement_line(std::string_view text, int block_line, std::string_view keyword);

// The file's text, or empty when it cannot be read (only used to find statement lines).
std::string read_text_file(const std::string& path);

}  // namespace tsp::daemon
