// dns_zone_bench: what the reverse delegations' writer costs at N delegations
// (control/dns/delegation_writer.hpp), under the tunnel service's mutex (which sessions wait
// for) and on its own thread.
//
// Under the mutex: each change is told to the writer (DelegationWriter::changed(change), timed
// on a real writer); the whole set is copied (TunnelService::delegations()) only when a writer
// starts. On the writer's thread, one pass: the changes of a busy second (--churn) applied to
// its own set, the zone text rendered, the file replaced (write, fsync, rename). The writer
// runs at most one pass per settle period (1 s), so the key ratios are a pass's time over
// that, and the mutex's time per second of churn now against the whole-set copy per pass it
// replaced.
//
//   dns_zone_bench [--delegations 1000,100000] [--churn 1000] [--rounds 7] [--dir /tmp]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "control/dns/delegation_writer.hpp"
#include "control/dns/reverse_zone.hpp"

using namespace tsp;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// N live routers as TunnelService keeps them: by tunnel id, /64s (every 8th a /48, every 16th
// a /62) from documentation space, two name servers each, as gogoc sends them.
std::map<uint32_t, std::shared_ptr<const dns::Delegation>> live_routers(uint32_t n) {
  std::map<uint32_t, std::shared_ptr<const dns::Delegation>> out;
  std::mt19937_64 rng(1);
  for (uint32_t id = 0; id < n; ++id) {
    Ipv6Addr a = *Ipv6Addr::parse("2001:db8::");
    const uint64_t r = rng();
    for (int i = 0; i < 6; ++i) a.bytes[2 + i] = static_cast<uint8_t>(r >> (8 * i));
    const uint8_t len = id % 16 == 0 ? 62 : id % 8 == 0 ? 48 : 64;
    const std::string site = "site" + std::to_string(id) + ".example.net";
    out[id] = std::make_shared<const dns::Delegation>(
        dns::Delegation{Ipv6Prefix{a.masked(len), len}, {"ns1." + site, "ns2." + site}});
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dns_zone_bench: one pass of the reverse delegations' writer"};
  std::vector<uint32_t> counts{1000, 100000};
  uint32_t churn = 1000;
  int rounds = 7;
  std::string dir = "/tmp";
  app.add_option("--delegations", counts, "delegations (live routers with name servers)")->delimiter(',');
  app.add_option("--churn", churn, "delegations changed per second (tunnels coming and going)")
      ->check(CLI::Range(1u, 1000000u));
  app.add_option("--rounds", rounds, "passes timed per count (medians reported)")->check(CLI::Range(1, 1000));
  app.add_option("--dir", dir, "where the zone file is written");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);  // the writer's "written" lines are not the table

  const std::string file = dir + "/dns_zone_bench." + std::to_string(::getpid()) + ".zone";
  std::printf("%-12s %10s %12s %10s %10s %10s %10s %10s %12s %10s\n", "delegations", "zones", "start_copy_ms",
              "told_us", "follow_ms", "render_ms", "write_ms", "pass_ms", "held_ms_per_s", "file_MB");
  std::string key = "key ratios (pass / 1 s settle period; mutex held per second, told / whole-set copy):";
  for (const uint32_t n : counts) {
    const auto routers = live_routers(n);
    std::vector<double> copy, told, follow, render, write;
    size_t zones = 0, bytes = 0;
    // A real writer, its passes held back by a long settle period: changed() costs what it
    // costs the service (a lock, an append, a wake-up).
    dns::DelegationWriter writer([] { return dns::DelegationList{}; }, {file + ".writer", 3600, {}},
                                 std::chrono::hours(1), std::chrono::hours(1));
    dns::DelegationSet set = dns::empty_delegation_set();
    for (int r = 0; r < rounds; ++r) {
      auto t = Clock::now();
      dns::DelegationList snapshot;  // what delegations() does under the mutex, at a start
      snapshot.reserve(routers.size());
      for (const auto& [id, d] : routers) snapshot.push_back(d);
      copy.push_back(ms_since(t));

      // A second's churn: `churn` routers replaced by themselves with other names.
      std::vector<dns::DelegationChange> changes;
      changes.reserve(churn);
      for (uint32_t i = 0; i < churn; ++i) {
        const auto& d = routers.at(static_cast<uint32_t>((uint64_t{i} * 7919 + static_cast<uint64_t>(r)) % n));
        changes.push_back({d->prefix, std::make_shared<const dns::Delegation>(*d)});
      }
      t = Clock::now();
      for (const auto& c : changes) writer.changed(c);
      told.push_back(ms_since(t) * 1000.0 / churn);

      if (set.empty()) {
        for (const auto& d : snapshot) set[d->prefix] = d;
      }
      t = Clock::now();
      const dns::DelegationList list = dns::apply_changes(set, changes);
      follow.push_back(ms_since(t));
      t = Clock::now();
      const dns::RenderedZone zone = dns::render_delegations(list, 3600);
      render.push_back(ms_since(t));
      t = Clock::now();
      std::string error;
      if (!dns::replace_file(file, zone.text, error)) {
        std::fprintf(stderr, "dns_zone_bench: %s\n", error.c_str());
        return 1;
      }
      write.push_back(ms_since(t));
      zones = zone.zones;
      bytes = zone.text.size();
    }
    const double pass = median(follow) + median(render) + median(write);
    const double held = median(told) * churn / 1000.0;  // ms of the service's mutex per second
    std::printf("%-12u %10zu %12.2f %10.3f %10.2f %10.2f %10.2f %10.2f %12.3f %10.2f\n", n, zones, median(copy),
                median(told), median(follow), median(render), median(write), pass, held, bytes / 1e6);
    char part[96];
    std::snprintf(part, sizeof part, " %u: %.4f, %.3f", n, pass / 1000.0, held / median(copy));
    key += part;
  }
  std::remove(file.c_str());
  std::remove((file + ".writer").c_str());
  std::printf("%s\n", key.c_str());
  return 0;
}
