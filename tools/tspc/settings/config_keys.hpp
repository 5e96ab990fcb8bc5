// The table of tspc.conf keys: for each name, the function that checks a value and stores it.
#pragma once

#include <string_view>

#include "tools/tspc/settings/tspc_config.hpp"

namespace tsp::tspc::detail {

struct ConfigKey {
  std::string_view name;
  std::string_view canonical;  // alias target for repeated-key checks (gogoc_dir -> tsp_dir)
  void (*set)(TspcConfig& cfg, std::string_view value);  // throws BadValue; value not empty
};

// nullptr for an unknown name.
const ConfigKey* find_config_key(std::string_view name);

}  // namespace tsp::tspc::detail
