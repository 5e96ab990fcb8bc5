// How tspctl writes durations, byte counts and JSON scalars in its tables.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace tsp::tspctl {

// 59s, 4m05s, 3h12m, 2d04h.
std::string duration(int64_t seconds);
// 999B, 1.2kB, 34.5MB, 1.0GB (decimal units).
std::string bytes(uint64_t count);
// A JSON scalar as a cell: strings bare, null as "-", numbers and booleans as written.
std::string cell(const nlohmann::json& value);
// Unix seconds as UTC "2024-05-01 12:00:00".
std::string timestamp(int64_t unix_seconds);
// Unix seconds as ISO 8601 UTC "2024-05-01T12:00:00Z": what abuse reports and logs quote.
std::string iso_time(int64_t unix_seconds);

}  // namespace tsp::tspctl
