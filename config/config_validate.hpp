// Second pass: the checks that need the whole file (references between blocks, required
// statements), then the defaults that depend on them.
#pragma once

#include "config/parse_state.hpp"

namespace tsp::config {

// Throws ConfigError at the line of the offending statement or block.
Config finish_config(ParseState&& state);

}  // namespace tsp::config
