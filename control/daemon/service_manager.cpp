#include "control/daemon/service_manager.hpp"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <cstring>
#include <string>

namespace tsp::daemon {

namespace {

// A STATUS= value is one line.
std::string one_line(std::string_view text) {
  std::string s(text);
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

void notify(const std::string& state) {
  // 0: not under a service manager; < 0: it went away. Neither stops the broker.
  if (const int r = sd_notify(0, state.c_str()); r < 0) {
    spdlog::warn("service manager notification failed: {}", std::strerror(-r));
  }
}

}  // namespace

void notify_ready(std::string_view status) { notify("READY=1\nSTATUS=" + one_line(status)); }

void notify_reloading() { notify("RELOADING=1\nSTATUS=reloading the configuration"); }

void notify_stopping(std::string_view status) { notify("STOPPING=1\nSTATUS=" + one_line(status)); }

}  // namespace tsp::daemon
