// tspctl's exit status, for scripts (also printed by --help).
#pragma once

namespace tsp::tspctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 1;         // bad arguments or configuration
inline constexpr int kExitRefused = 2;       // not found, or refused by the daemon
inline constexpr int kExitUnreachable = 3;   // no daemon answers on the admin socket
inline constexpr int kExitPermission = 4;    // not root and not in the admin group

inline constexpr const char* kExitCodesHelp =
    "Exit status: 0 ok, 1 usage or configuration error, 2 not found or refused by the daemon,\n"
    "3 daemon not reachable, 4 permission denied.";

}  // namespace tsp::tspctl
