// What tspctl sees of the daemon's state, as JSON with stable snake_case field names. Pure
// functions of snapshots: the daemon takes the snapshot on its I/O thread and may render it
// on another.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/dns/delegation_writer.hpp"
#include "control/store/records.hpp"
#include "control/tunnel_service.hpp"
#include "dataplane/dataplane.hpp"

namespace tsp::admin {

struct TunnelView {
  store::TunnelRecord record;
  std::optional<dp::TunnelStats> traffic;  // none without a dataplane
};

std::string_view mode_name(store::TunnelModeRec mode);  // "v6v4", "v6udpv4"

nlohmann::json tunnel_json(const TunnelView& view, int64_t now);
// One tunnel's life (tspctl history): {"tunnel_id","user" (null: anonymous),"mode",
// "client_ipv4","client_port","ipv6_address","prefix","transport","started_at","ended_at",
// "end_reason"}, the last two null while it lives.
nlohmann::json history_record_json(const store::TunnelHistoryRecord& r);
// {"now":N,"dataplane":bool,"tunnels":[...]} serialized: built straight as text, since it may
// hold 100k tunnels.
std::string tunnel_list_json(const std::vector<TunnelView>& views, int64_t now, bool dataplane);
nlohmann::json pools_json(const std::vector<PoolUsage>& pools);
nlohmann::json stats_json(const std::optional<dp::DataplaneStats>& dataplane, const ServiceCounters& service,
                          size_t live_tunnels);
// The reverse zone file's writer: {"file","zones","writes","write_failures","reload_commands",
// "reload_command_failures","names_left_out","last_error"}.
nlohmann::json delegation_json(const std::string& file, const dns::DelegationStats& stats);
// The dataplane's exception limits: {"neighbor":{"per_second":N,"burst":N} or null (no limit),
// "tsp":..., "other":...}.
nlohmann::json exception_limits_json(const dp::ExceptionLimit (&limits)[dp::kExceptionLimitCount]);

// The live tunnel a tspctl argument names: a user name, a tunnel's IPv6 address (or any
// address inside its prefix), its prefix, or its numeric id, tried in that order.
std::optional<store::TunnelRecord> find_tunnel(const std::vector<store::TunnelRecord>& tunnels,
                                               std::string_view target);

}  // namespace tsp::admin
