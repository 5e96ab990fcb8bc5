// What a load run measured: per client group (transport x auth x host type) the sessions,
// their latencies and the failures by cause, and how to print them as one table.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "perf/tsp_load/client_dialogue.hpp"

namespace tsp::load {

struct GroupKey {
  Transport transport = Transport::Udp;
  AuthKind auth = AuthKind::Anonymous;
  HostType host_type = HostType::Host;
  friend auto operator<=>(const GroupKey&, const GroupKey&) = default;
};
std::string group_name(const GroupKey& key);  // "udp digest-md5 router"

struct GroupStats {
  uint64_t started = 0;
  uint64_t succeeded = 0;
  std::vector<uint32_t> latency_us;        // one per succeeded session
  std::map<std::string, uint64_t> failures;  // "status 530", "timeout", "protocol", ...

  void add_failure(const ClientDialogue& d);
  void merge(const GroupStats& other);
  uint64_t failed() const { return started - succeeded; }
};

struct RunReport {
  std::map<GroupKey, GroupStats> groups;
  double seconds = 0;  // first session started .. last session finished
  uint64_t udp_retransmissions = 0;

  GroupStats total() const;
  void merge(const RunReport& other);  // for several runner threads: seconds is the longest
};

// Latency percentile in milliseconds (p in 0..100) of an unsorted sample; 0 when empty.
double percentile_ms(std::vector<uint32_t> sample, double p);

// The table (one row per group and a total), the failures by cause, then one line for
// scripts: "tsp_load: clients=N ok=N failed=N seconds=S rate=R p50_ms=X p99_ms=Y retransmits=N".
std::string format_report(const RunReport& report);

}  // namespace tsp::load
