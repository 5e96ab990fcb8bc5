// The TIME that tspctl history --at takes: what an abuse report quotes, as typed.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace tsp::tspctl {

// Unix seconds ("1795183380"), an ISO 8601 UTC time ("2026-11-20T14:03:00Z") or the same
// with a space and no Z ("2026-11-20 14:03:00", taken as UTC): unix seconds, from 1970 to
// the end of 9999. Anything else (local times, offsets, impossible dates) is nullopt.
std::optional<int64_t> parse_time(std::string_view text);

}  // namespace tsp::tspctl
