// Fuzz target for tspc.conf: any text gives a TspcConfig or a ConfigError (no other
// exception, crash, sanitizer report or leak); an error names the file; a config that came
// back has the required keys and values inside their ranges, and validate() on it either
// passes or throws ConfigError.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tools/tspc/settings/tspc_config.hpp"

using namespace tsp::tspc;

static void require(bool ok) {
  if (!ok) std::abort();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto cfg = parse_tspc_config(text, "fuzz.conf");
    require(!cfg.server.host.empty() && cfg.server.port > 0 && !cfg.template_name.empty());
    require(cfg.retry_delay <= 3600 && cfg.retry_delay_max <= 3600 && cfg.keepalive_interval <= 3600);
    require(cfg.prefixlen == 0 || cfg.prefixlen == 48 || cfg.prefixlen == 64);
    require(cfg.passwd.size() <= 128 && cfg.userid.size() <= 253);
    require(cfg.log_stderr >= 0 && cfg.log_stderr <= 3 && cfg.syslog_level >= 0 && cfg.syslog_level <= 3);
    require(cfg.template_name.find('/') == std::string::npos);
    try {
      validate(cfg);
    } catch (const ConfigError& e) {
      require(std::string_view(e.what()).starts_with("fuzz.conf: "));
    }
  } catch (const ConfigError& e) {
    require(std::string_view(e.what()).starts_with("fuzz.conf"));
  }
  return 0;
}
