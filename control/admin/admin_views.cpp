#include "control/admin/admin_views.hpp"

#include <algorithm>
#include <charconv>

#include "control/admin/json_text.hpp"
#include "dataplane/drop_reasons.hpp"

namespace tsp::admin {

namespace {

using nlohmann::json;

int64_t since(int64_t now, int64_t then) { return std::max<int64_t>(0, now - then); }

json traffic_json(const std::optional<dp::TunnelStats>& t) {
  if (!t) return nullptr;
  return {{"packets_in", t->packets_in}, {"bytes_in", t->bytes_in}, {"packets_out", t->packets_out},
          {"bytes_out", t->bytes_out}};
}

json worker_json(const dp::DataplaneStats::Worker& w, bool with_lcore) {
  json drops = json::object();
  for (size_t i = 0; i < dp::kDropReasonCount; ++i)
    drops[std::string(dp::drop_reason_name(static_cast<dp::DropReason>(i)))] = w.drops[i];
  json out = {{"rx", w.rx},
              {"tx", w.tx},
              {"encap", w.encap},
              {"decap", w.decap},
              {"exception", w.exception},
              {"keepalive_replies", w.keepalive_replies},
              {"icmp_errors", w.icmp_errors},
              {"reassembled", w.reassembled},
              {"drops", std::move(drops)}};
  if (with_lcore) out["lcore"] = w.lcore;
  return out;
}

// Appends `,"key":` (or without the comma for the first field).
void key(std::string& out, std::string_view name, bool first = false) {
  if (!first) out += ',';
  out += '"';
  out += name;
  out += "\":";
}

}  // namespace

std::string_view mode_name(store::TunnelModeRec mode) {
  return mode == store::TunnelModeRec::V6UDPV4 ? "v6udpv4" : "v6v4";
}

json tunnel_json(const TunnelView& view, int64_t now) {
  const auto& r = view.record;
  return {{"id", r.id},
          {"user", r.anonymous ? json(nullptr) : json(r.user)},
          {"anonymous", r.anonymous},
          {"mode", mode_name(r.mode)},
          {"transport", r.transport},
          {"client_ipv4", r.client_v4.to_string()},
          {"client_port", r.client_port},
          {"ipv6_address", r.client_v6.to_string()},
          {"prefix", r.prefix ? json(r.prefix->to_string()) : json(nullptr)},
          {"created_at", r.created_at},
          {"last_seen", r.last_seen},
          {"age_seconds", since(now, r.created_at)},
          {"idle_seconds", since(now, r.last_seen)},
          {"traffic", traffic_json(view.traffic)}};
}

json history_record_json(const store::TunnelHistoryRecord& r) {
  return {{"tunnel_id", r.tunnel_id},
          {"user", r.anonymous ? json(nullptr) : json(r.user)},
          {"mode", mode_name(r.mode)},
          {"client_ipv4", r.client_v4.to_string()},
          {"client_port", r.client_port},
          {"ipv6_address", r.client_v6.to_string()},
          {"prefix", r.prefix ? json(r.prefix->to_string()) : json(nullptr)},
          {"transport", r.transport},
          {"started_at", r.started_at},
          {"ended_at", r.ended_at ? json(*r.ended_at) : json(nullptr)},
          {"end_reason", r.ended_at ? json(r.end_reason) : json(nullptr)}};
}

// The same fields as tunnel_json, in its (alphabetical, nlohmann's) order, written directly:
// a DOM per tunnel costs more than the whole listing may take.
std::string tunnel_list_json(const std::vector<TunnelView>& views, int64_t now, bool dataplane) {
  std::string out;
  out.reserve(64 + views.size() * 330);
  out += "{\"dataplane\":";
  out += dataplane ? "true" : "false";
  out += ",\"now\":";
  append_json_number(out, now);
  out += ",\"tunnels\":[";
  bool first_tunnel = true;
  for (const auto& v : views) {
    const auto& r = v.record;
    if (!first_tunnel) out += ',';
    first_tunnel = false;
    out += '{';
    key(out, "age_seconds", true);
    append_json_number(out, since(now, r.created_at));
    key(out, "anonymous");
    out += r.anonymous ? "true" : "false";
    key(out, "client_ipv4");
    append_json_string(out, r.client_v4.to_string());
    key(out, "client_port");
    append_json_number(out, r.client_port);
    key(out, "created_at");
    append_json_number(out, r.created_at);
    key(out, "id");
    append_json_number(out, r.id);
    key(out, "idle_seconds");
    append_json_number(out, since(now, r.last_seen));
    key(out, "ipv6_address");
    append_json_string(out, r.client_v6.to_string());
    key(out, "last_seen");
    append_json_number(out, r.last_seen);
    key(out, "mode");
    append_json_string(out, mode_name(r.mode));
    key(out, "prefix");
    if (r.prefix) append_json_string(out, r.prefix->to_string());
    else out += "null";
    key(out, "traffic");
    if (v.traffic) {
      out += '{';
      key(out, "bytes_in", true);
      append_json_number(out, v.traffic->bytes_in);
      key(out, "bytes_out");
      append_json_number(out, v.traffic->bytes_out);
      key(out, "packets_in");
      append_json_number(out, v.traffic->packets_in);
      key(out, "packets_out");
      append_json_number(out, v.traffic->packets_out);
      out += '}';
    } else {
      out += "null";
    }
    key(out, "transport");
    append_json_string(out, r.transport);
    key(out, "user");
    if (r.anonymous) out += "null";
    else append_json_string(out, r.user);
    out += '}';
  }
  out += "]}";
  return out;
}

json pools_json(const std::vector<PoolUsage>& pools) {
  json out = json::array();
  for (const auto& p : pools) {
    out.push_back({{"name", p.name},
                   {"range", p.range.to_string()},
                   {"block_length", p.block_len},
                   {"size", p.capacity},
                   {"used", p.used},
                   {"free", p.free},
                   {"quarantined", p.quarantined},
                   {"reserved", p.capacity - p.used - p.free - p.quarantined}});
  }
  return {{"pools", std::move(out)}};
}

json stats_json(const std::optional<dp::DataplaneStats>& dataplane, const ServiceCounters& service,
                size_t live_tunnels) {
  json out;
  out["control"] = {{"live_tunnels", live_tunnels},  {"offers", service.offers},
                    {"commits", service.commits},    {"replaced", service.replaced},
                    {"expired", service.expired},    {"refused", service.refused},
                    {"refused_anonymous_per_address", service.anonymous_limited}};
  if (!dataplane) {
    out["dataplane"] = nullptr;
    return out;
  }
  json workers = json::array();
  for (const auto& w : dataplane->workers) workers.push_back(worker_json(w, true));
  out["dataplane"] = {{"workers", std::move(workers)}, {"total", worker_json(dataplane->total(), false)}};
  return out;
}

json exception_limits_json(const dp::ExceptionLimit (&limits)[dp::kExceptionLimitCount]) {
  json out = json::object();
  for (unsigned c = 0; c < dp::kExceptionLimitCount; ++c) {
    const dp::ExceptionLimit& l = limits[c];
    out[dp::kExceptionLimitNames[c]] =
        l.per_second ? json{{"per_second", l.per_second}, {"burst", l.burst}} : json(nullptr);
  }
  return out;
}

json delegation_json(const std::string& file, const dns::DelegationStats& stats) {
  return {{"file", file},
          {"zones", stats.zones},
          {"writes", stats.writes},
          {"write_failures", stats.write_failures},
          {"reload_commands", stats.commands},
          {"reload_command_failures", stats.command_failures},
          {"names_left_out", stats.skipped_names},
          {"last_error", stats.last_error}};
}

std::optional<store::TunnelRecord> find_tunnel(const std::vector<store::TunnelRecord>& tunnels,
                                               std::string_view target) {
  if (target.empty()) return std::nullopt;
  for (const auto& t : tunnels)
    if (!t.anonymous && t.user == target) return t;
  if (target.find('/') != std::string_view::npos) {
    const auto prefix = Ipv6Prefix::parse(target);
    if (!prefix) return std::nullopt;
    for (const auto& t : tunnels)
      if ((t.prefix && *t.prefix == *prefix) || (prefix->len == 128 && t.client_v6 == prefix->addr)) return t;
    return std::nullopt;
  }
  if (const auto addr = Ipv6Addr::parse(target)) {
    for (const auto& t : tunnels)
      if (t.client_v6 == *addr) return t;
    for (const auto& t : tunnels)
      if (t.prefix && t.prefix->contains(*addr)) return t;
    return std::nullopt;
  }
  uint32_t id = 0;
  const auto [end, ec] = std::from_chars(target.data(), target.data() + target.size(), id);
  if (ec == std::errc() && end == target.data() + target.size()) {
    for (const auto& t : tunnels)
      if (t.id == id) return t;
  }
  return std::nullopt;
}

}  // namespace tsp::admin
