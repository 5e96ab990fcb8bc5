// What a service manager (systemd with Type=notify) is told about the daemon's state: ready
// once every server listens and the stored tunnels forward, reloading around a SIGHUP,
// stopping at the drain, and a one-line status for `systemctl status`. Each call does nothing
// when no service manager started the daemon (NOTIFY_SOCKET unset).
#pragma once

#include <string_view>

namespace tsp::daemon {

void notify_ready(std::string_view status);
void notify_reloading();
void notify_stopping(std::string_view status);

}  // namespace tsp::daemon
