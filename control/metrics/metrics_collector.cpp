#include "control/metrics/metrics_collector.hpp"

#include <string>

#include "control/metrics/prometheus_text.hpp"
#include "dataplane/drop_reasons.hpp"

#ifndef TSPBROKER_VERSION
#define TSPBROKER_VERSION "unknown"
#endif

namespace tsp::metrics {

namespace {

std::string worker_label(size_t index) { return std::to_string(index); }

}  // namespace

std::vector<MetricFamily> MetricsCollector::collect() const {
  std::vector<MetricFamily> out;
  out.push_back(gauge_family("tspbroker_build_info", "tspbroker version (always 1)")
                    .add({{"version", TSPBROKER_VERSION}}, uint64_t{1}));
  if (sources_.control) add_control(out);
  if (sources_.lockout) add_lockout(out);
  if (sources_.password_checker) add_password_checker(out);
  if (sources_.checkpoints) add_checkpoints(out);
  if (sources_.delegations) add_delegations(out);
  if (sources_.sessions) add_sessions(out);
  if (sources_.tunnels) {
    add_tunnels(out);
    add_pools(out);
  }
  if (sources_.dataplane) {
    add_dataplane(out);
    if (sources_.per_tunnel && sources_.tunnels) add_per_tunnel(out);
  }
  return out;
}

std::string MetricsCollector::render() const { return render_prometheus_text(collect()); }

void MetricsCollector::add_control(std::vector<MetricFamily>& out) const {
  const ControlCounters& c = *sources_.control;

  auto sessions = counter_family("tspbroker_tsp_sessions_total",
                                 "TSP session outcomes: accepted (tunnel up), refused (error status), redirected, "
                                 "rejected (by the client), timeout (unfinished session idled out)");
  for (size_t i = 0; i < kSessionResultCount; ++i) {
    const auto r = static_cast<SessionResult>(i);
    sessions.add({{"result", std::string(session_result_name(r))}}, c.sessions(r));
  }
  out.push_back(std::move(sessions));

  auto refusals = counter_family("tspbroker_tsp_refusals_total", "TSP refusals by the status code sent to the client");
  for (Status s : kRefusalStatuses) refusals.add({{"code", std::to_string(static_cast<int>(s))}}, c.refusals(s));
  if (c.refused_other() > 0) refusals.add({{"code", "other"}}, c.refused_other());
  out.push_back(std::move(refusals));

  auto auth = counter_family("tspbroker_tsp_authentications_total", "TSP authentications by mechanism and result");
  for (auto m : kAuthMechanisms) {
    for (auto r : kAuthResults) {
      auth.add({{"mechanism", std::string(auth_mechanism_name(m))}, {"result", std::string(auth_result_name(r))}},
               c.authentications(m, r));
    }
  }
  out.push_back(std::move(auth));
  add_transport(out, c.transport());
}

void MetricsCollector::add_transport(std::vector<MetricFamily>& out, const TransportCounters& t) const {
  out.push_back(counter_family("tspbroker_tsp_udp_datagrams_total", "Datagrams on the TSP UDP port, received and sent")
                    .add({{"direction", "received"}}, t.udp_received_count())
                    .add({{"direction", "sent"}}, t.udp_sent_count()));
  auto drops = counter_family("tspbroker_tsp_udp_dropped_total",
                              "Datagrams on the TSP UDP port that no session saw: malformed (no whole RUDP header), "
                              "unknown_session (not VERSION= from a source with no session; no reply, no reflection), "
                              "tunnel_data (IPv6 in UDP while no dataplane runs)");
  for (auto d : kUdpDrops) drops.add({{"reason", std::string(udp_drop_name(d))}}, t.udp_drops(d));
  out.push_back(std::move(drops));
  out.push_back(counter_family("tspbroker_tsp_udp_retransmissions_answered_total",
                               "Retransmitted TSP requests answered again from the session's reply cache")
                    .add({}, t.udp_retransmissions_answered()));
  out.push_back(counter_family("tspbroker_tsp_tcp_connections_total", "TCP connections accepted on the TSP port")
                    .add({}, t.tcp_accepted_count()));
  auto closes = counter_family("tspbroker_tsp_tcp_closed_total",
                               "TCP connections the broker closed: idle (unfinished, or its tunnel gone, for the "
                               "session timeout), bad_framing (not TSP messages), tunnel_gone (the tunnel it was held "
                               "for went by anything but that session's own delete: kicked, expired, replaced, its user deleted), "
                               "user_deleted (its session's user was deleted while it held no tunnel)");
  for (auto c : kTcpCloses) closes.add({{"reason", std::string(tcp_close_name(c))}}, t.tcp_closes(c));
  out.push_back(std::move(closes));
  auto limited = counter_family("tspbroker_tsp_sessions_limited_total",
                                "New TSP sessions refused 530 by a session limit: all (max sessions), per_address "
                                "(max sessions per-address: unfinished sessions from the client's IPv4 address)");
  for (auto l : kSessionLimits) limited.add({{"limit", std::string(session_limit_name(l))}}, t.sessions_limited(l));
  out.push_back(std::move(limited));
}

void MetricsCollector::add_sessions(std::vector<MetricFamily>& out) const {
  const SessionLimiter::Figures& s = *sources_.sessions;
  out.push_back(gauge_family("tspbroker_tsp_sessions_unfinished",
                             "TSP sessions started and not yet established, closed or timed out (max sessions)")
                    .add({}, uint64_t{s.unfinished}));
  out.push_back(gauge_family("tspbroker_tsp_session_sources",
                             "Client IPv4 addresses with unfinished TSP sessions now")
                    .add({}, uint64_t{s.addresses}));
  out.push_back(gauge_family("tspbroker_tsp_session_sources_at_limit",
                             "Of those, addresses at max sessions per-address: their next session gets 530")
                    .add({}, uint64_t{s.addresses_at_limit}));
}

void MetricsCollector::add_lockout(std::vector<MetricFamily>& out) const {
  const AuthLockout& lockout = *sources_.lockout;
  out.push_back(gauge_family("tspbroker_auth_locked_sources",
                             "Client IPv4 addresses locked out now for failed password logins (tspctl lockouts)")
                    .add({}, uint64_t{lockout.locked_now(sources_.now)}));
  out.push_back(gauge_family("tspbroker_auth_tracked_sources",
                             "Client IPv4 addresses the lockout remembers (locked or with recent failures; bounded)")
                    .add({}, uint64_t{lockout.tracked()}));
  out.push_back(gauge_family("tspbroker_auth_locked_users",
                             "User names locked out now for failed password logins from any addresses (tspctl lockouts)")
                    .add({}, uint64_t{lockout.locked_users_now(sources_.now)}));
  out.push_back(gauge_family("tspbroker_auth_tracked_users",
                             "User names the lockout remembers (failures, locks, trusted addresses; bounded)")
                    .add({}, uint64_t{lockout.tracked_users()}));
}

void MetricsCollector::add_password_checker(std::vector<MetricFamily>& out) const {
  const PasswordChecker::Load load = sources_.password_checker->load();
  out.push_back(gauge_family("tspbroker_password_checks_queued",
                             "PLAIN password checks waiting for a checker thread, per lane (trusted: from an address "
                             "that proved the user's password before, served first); at capacity new ones are refused busy")
                    .add({{"lane", "trusted"}}, uint64_t{load.queued_trusted})
                    .add({{"lane", "other"}}, uint64_t{load.queued}));
  out.push_back(gauge_family("tspbroker_password_checks_running", "PLAIN password checks being computed now")
                    .add({}, uint64_t{load.running}));
  out.push_back(gauge_family("tspbroker_password_check_queue_capacity",
                             "PLAIN password checks that may wait in each lane before the next is refused busy")
                    .add({}, uint64_t{load.capacity}));
}

void MetricsCollector::add_checkpoints(std::vector<MetricFamily>& out) const {
  const store::CheckpointStats& c = *sources_.checkpoints;
  out.push_back(counter_family("tspbroker_store_checkpoints_total",
                               "WAL checkpoints run by the store's own thread, off its lock: done, busy (the writer's "
                               "catch-up was checkpointing) or failed (SQLite refused); either way the next commit asks again")
                    .add({{"result", "done"}}, c.runs - c.busy - c.failures)
                    .add({{"result", "busy"}}, c.busy)
                    .add({{"result", "failed"}}, c.failures));
  out.push_back(counter_family("tspbroker_store_checkpoint_frames_total",
                               "WAL pages the background checkpoints wrote back to the database file")
                    .add({}, c.frames_copied));
  out.push_back(counter_family("tspbroker_store_wal_restarts_total",
                               "Times the WAL was started over from its beginning (it stays bounded while this grows)")
                    .add({}, c.wal_restarts));
  out.push_back(gauge_family("tspbroker_store_checkpoint_longest_seconds",
                             "The slowest checkpoint so far: background (no session waits for it) or writer (the catch-up "
                             "after a window's commit, which sessions needing the store wait for)")
                    .add({{"by", "background"}}, static_cast<double>(c.longest_us) / 1e6)
                    .add({{"by", "writer"}}, static_cast<double>(c.longest_writer_us) / 1e6));
}

void MetricsCollector::add_delegations(std::vector<MetricFamily>& out) const {
  const dns::DelegationStats& d = *sources_.delegations;
  out.push_back(gauge_family("tspbroker_dns_delegated_zones",
                             "ip6.arpa zones delegated to clients' name servers in the zone file last written")
                    .add({}, d.zones));
  out.push_back(gauge_family("tspbroker_dns_delegation_names_left_out",
                             "Name servers left out of the zone file last written as not host names (kept from before "
                             "the broker refused them with 509)")
                    .add({}, d.skipped_names));
  out.push_back(counter_family("tspbroker_dns_zone_writes_total",
                               "Rewrites of the delegations' zone file: written, or failed (tried again in 5 s)")
                    .add({{"result", "written"}}, d.writes)
                    .add({{"result", "failed"}}, d.write_failures));
  out.push_back(counter_family("tspbroker_dns_reload_commands_total",
                               "Runs of the 'dns delegation reload' command after a write: ok (exit 0), or failed (other "
                               "status, signal, no such program, or still running after 30 s; tried again in 5 s)")
                    .add({{"result", "ok"}}, d.commands - d.command_failures)
                    .add({{"result", "failed"}}, d.command_failures));
}

void MetricsCollector::add_tunnels(std::vector<MetricFamily>& out) const {
  const TunnelService& service = *sources_.tunnels;
  const TunnelCensus census = service.tunnel_census();
  auto tunnels = gauge_family("tspbroker_tunnels",
                              "Live tunnels by mode and host type (router: delegated a prefix; host: none)");
  tunnels.add({{"mode", "v6v4"}, {"type", "host"}}, census.v6v4_host)
      .add({{"mode", "v6v4"}, {"type", "router"}}, census.v6v4_router)
      .add({{"mode", "v6udpv4"}, {"type", "host"}}, census.v6udpv4_host)
      .add({{"mode", "v6udpv4"}, {"type", "router"}}, census.v6udpv4_router);
  out.push_back(std::move(tunnels));
  out.push_back(gauge_family("tspbroker_tunnels_anonymous", "Live tunnels of anonymous clients")
                    .add({}, census.anonymous));

  const ServiceCounters sc = service.counters();
  out.push_back(counter_family("tspbroker_tunnel_offers_total", "Tunnel offers sent").add({}, sc.offers));
  out.push_back(counter_family("tspbroker_tunnel_commits_total", "Offers accepted and published").add({}, sc.commits));
  out.push_back(counter_family("tspbroker_tunnel_replacements_total",
                               "Live tunnels replaced by a new one of the same user or endpoint")
                    .add({}, sc.replaced));
  out.push_back(counter_family("tspbroker_tunnels_anonymous_limited_total",
                               "Anonymous tunnel requests refused 301: their address held limit anonymous per-address "
                               "tunnels, offered or live")
                    .add({}, sc.anonymous_limited));
  out.push_back(counter_family("tspbroker_keepalive_expiries_total",
                               "Tunnels expired after the configured number of missed keepalive intervals")
                    .add({}, sc.expired));
}

void MetricsCollector::add_pools(std::vector<MetricFamily>& out) const {
  const auto pools = sources_.tunnels->pool_usage();
  auto size = gauge_family("tspbroker_pool_size_blocks", "Blocks (addresses or prefixes) a pool holds");
  auto used = gauge_family("tspbroker_pool_used_blocks", "Blocks allocated to users or live tunnels");
  auto free = gauge_family("tspbroker_pool_free_blocks", "Blocks that can be handed out now");
  auto quarantined = gauge_family("tspbroker_pool_quarantined_blocks",
                                  "Released anonymous blocks waiting out their quarantine");
  for (const auto& p : pools) {
    const Labels labels{{"pool", p.name}};
    size.add(labels, p.capacity);
    used.add(labels, p.used);
    free.add(labels, p.free);
    quarantined.add(labels, p.quarantined);
  }
  out.push_back(std::move(size));
  out.push_back(std::move(used));
  out.push_back(std::move(free));
  out.push_back(std::move(quarantined));
}

void MetricsCollector::add_dataplane(std::vector<MetricFamily>& out) const {
  const dp::DataplaneStats stats = sources_.dataplane->stats();
  auto rx = counter_family("tspbroker_dataplane_rx_packets_total", "Frames received by a dataplane worker");
  auto tx = counter_family("tspbroker_dataplane_tx_packets_total", "Frames a dataplane worker sent (NIC or tap)");
  auto packets = counter_family("tspbroker_dataplane_packets_total",
                                "Tunnel packets forwarded: decap (client to uplink), encap (uplink to client)");
  auto bytes = counter_family("tspbroker_dataplane_bytes_total",
                              "Inner IPv6 bytes forwarded: decap (client to uplink), encap (uplink to client)");
  auto exception = counter_family("tspbroker_dataplane_exception_packets_total",
                                  "Packets handed to the kernel through the exception taps");
  auto keepalive = counter_family("tspbroker_dataplane_keepalive_replies_total",
                                  "Keepalive echo requests answered by the dataplane");
  auto icmp = counter_family("tspbroker_dataplane_icmp_errors_total",
                             "ICMPv6 errors sent (time exceeded, packet too big)");
  auto reassembled = counter_family("tspbroker_dataplane_reassembled_packets_total",
                                    "IPv4 packets (tunnel data, UDP) put together from fragments");
  auto drops = counter_family("tspbroker_dataplane_drops_total", "Packets dropped, by reason");
  for (size_t i = 0; i < stats.workers.size(); ++i) {
    const auto& w = stats.workers[i];
    const std::string worker = worker_label(i);
    rx.add({{"worker", worker}}, w.rx);
    tx.add({{"worker", worker}}, w.tx);
    packets.add({{"worker", worker}, {"direction", "decap"}}, w.decap);
    packets.add({{"worker", worker}, {"direction", "encap"}}, w.encap);
    bytes.add({{"worker", worker}, {"direction", "decap"}}, w.decap_bytes);
    bytes.add({{"worker", worker}, {"direction", "encap"}}, w.encap_bytes);
    exception.add({{"worker", worker}}, w.exception);
    keepalive.add({{"worker", worker}}, w.keepalive_replies);
    icmp.add({{"worker", worker}}, w.icmp_errors);
    reassembled.add({{"worker", worker}}, w.reassembled);
    for (size_t r = 0; r < dp::kDropReasonCount; ++r) {
      drops.add({{"worker", worker}, {"reason", std::string(dp::drop_reason_name(static_cast<dp::DropReason>(r)))}},
                w.drops[r]);
    }
  }
  out.push_back(gauge_family("tspbroker_dataplane_workers", "Dataplane worker lcores")
                    .add({}, uint64_t{stats.workers.size()}));
  for (auto* f : {&rx, &tx, &packets, &bytes, &exception, &keepalive, &icmp, &reassembled, &drops}) {
    out.push_back(std::move(*f));
  }
}

void MetricsCollector::add_per_tunnel(std::vector<MetricFamily>& out) const {
  auto packets = counter_family("tspbroker_tunnel_packets_total",
                                "Inner packets per live tunnel: decap (from the client, keepalives included), "
                                "encap (into the tunnel, replies and errors included)");
  auto bytes = counter_family("tspbroker_tunnel_bytes_total", "Inner IPv6 bytes per live tunnel, as the packets");
  for (const auto& rec : sources_.tunnels->tunnels()) {
    const dp::TunnelStats t = sources_.dataplane->tunnel_stats(rec.id);
    const std::string id = std::to_string(rec.id);
    packets.add({{"tunnel_id", id}, {"user", rec.user}, {"direction", "decap"}}, t.packets_in);
    packets.add({{"tunnel_id", id}, {"user", rec.user}, {"direction", "encap"}}, t.packets_out);
    bytes.add({{"tunnel_id", id}, {"user", rec.user}, {"direction", "decap"}}, t.bytes_in);
    bytes.add({{"tunnel_id", id}, {"user", rec.user}, {"direction", "encap"}}, t.bytes_out);
  }
  out.push_back(std::move(packets));
  out.push_back(std::move(bytes));
}

}  // namespace tsp::metrics
