#include "perf/bench_updates.hpp"

#include <rte_cycles.h>
#include <rte_pause.h>
#include <pthread.h>

#include <chrono>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>

#include "perf/bench_loops.hpp"
#include "shared/rcu.hpp"
#include "tests/unit/dp_test_support.hpp"

namespace tsp::perf {

namespace {

using Clock = std::chrono::steady_clock;

void pin_current_thread(const cpu_set_t& cpus) { pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus); }

// A new protocol-41 tunnel in the world's spare id, with keys no other tunnel has: outer
// source in 11.0.0.0/8 (the bench's are in 10.0.0.0/8), client address in 2001:db8:f001::/64.
TunnelEntry probe_tunnel(const BenchWorld& world, unsigned k) {
  TunnelEntry t = world.tunnel(0);  // id 0: protocol 41; server side and MTU as every tunnel
  t.id = world.spare_id();
  t.client_v4 = Ipv4Addr{(11u << 24) | (k + 1)};
  t.client_v6.bytes[5] = 0x01;
  t.prefix_len = 0;
  t.prefix = Ipv6Addr{};
  return t;
}

}  // namespace

TableUpdater::TableUpdater(BenchWorld& world, double per_second, const cpu_set_t& cpus, uint64_t seed)
    : world_(world), per_second_(per_second) {
  thread_ = std::thread([this, cpus, seed] {
    pin_current_thread(cpus);
    run(seed);
  });
}

TableUpdater::~TableUpdater() {
  stop_.store(true);
  thread_.join();
}

void TableUpdater::set_active(bool on) noexcept { active_.store(on, std::memory_order_release); }

double TableUpdater::achieved_rate() const noexcept {
  const uint64_t ns = active_ns_.load();
  return ns ? static_cast<double>(updates_.load()) * 1e9 / static_cast<double>(ns) : 0.0;
}

// Paced by deadlines: after a late wake-up the missed updates are made at once, so the average
// rate holds even though a sleep of 100 µs often lasts longer.
void TableUpdater::run(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<uint32_t> any_id(0, world_.tunnel_count() - 1);
  const auto period = std::chrono::nanoseconds(static_cast<int64_t>(1e9 / per_second_));
  while (!stop_.load(std::memory_order_relaxed)) {
    if (!active_.load(std::memory_order_acquire)) {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
      continue;
    }
    const Clock::time_point start = Clock::now();
    Clock::time_point next = start;
    uint64_t done = 0;
    while (active_.load(std::memory_order_acquire) && !stop_.load(std::memory_order_relaxed)) {
      for (Clock::time_point now = Clock::now(); now >= next; next += period) {
        world_.table.upsert(world_.tunnel(any_id(rng)));
        ++done;
      }
      std::this_thread::sleep_until(next);
    }
    updates_.fetch_add(done);
    active_ns_.fetch_add(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count()));
  }
}

UpdateLatency measure_update_latency(BenchWorld& world, const TemplateRing& ring, Scenario s, WorkingBurst& burst,
                                     const cpu_set_t& cpus, unsigned samples, uint32_t payload) {
  if (s != Scenario::Decap41) throw std::invalid_argument("the update latency probe runs on decap-41");
  std::vector<TunnelEntry> probes;
  std::vector<std::vector<uint8_t>> probe_frames;
  for (unsigned k = 0; k < samples; ++k) probes.push_back(probe_tunnel(world, k));
  for (const TunnelEntry& probe : probes) {
    const auto inner = dp::test::udp6_packet(probe.client_v6, dp::test::v6("2001:db8:beef::1"), 64, payload);
    probe_frames.push_back(dp::test::client_frame(probe, inner, 7));
  }

  std::vector<uint64_t> published(samples, 0);
  std::atomic<int> current{-1};        // the probe being published, -1 between probes
  std::atomic<int> seen{-1};           // the last probe the worker forwarded
  std::atomic<bool> writer_done{false};
  UpdateLatency result;
  std::vector<uint64_t> forwarded_at(samples, 0);

  std::thread writer([&] {
    pin_current_thread(cpus);
    for (unsigned k = 0; k < samples; ++k) {
      published[k] = rte_rdtsc();
      current.store(static_cast<int>(k), std::memory_order_release);
      if (!world.table.upsert(probes[k])) break;  // the worker then reports it lost
      const auto deadline = Clock::now() + std::chrono::milliseconds(20);
      while (seen.load(std::memory_order_acquire) != static_cast<int>(k) && Clock::now() < deadline) rte_pause();
      current.store(-1, std::memory_order_release);
      world.table.remove(world.spare_id());
      std::this_thread::sleep_for(std::chrono::microseconds(100));  // 10k updates/s at most
    }
    writer_done.store(true, std::memory_order_release);
  });

  OursTally tally;
  uint32_t next = 0;
  rte_mbuf* probe_m = burst.m[kBurst - 1];
  while (!writer_done.load(std::memory_order_acquire)) {
    for (unsigned i = 0; i + 1 < kBurst; ++i) {
      load_template(burst.m[i], ring, next);
      if (++next == ring.size()) next = 0;
    }
    const int k = current.load(std::memory_order_acquire);
    const bool probing = k >= 0 && seen.load(std::memory_order_relaxed) != k;
    if (probing) {
      const auto& f = probe_frames[static_cast<unsigned>(k)];
      load_template(probe_m, ring, 0);  // offsets and lengths; the bytes are replaced below
      std::memcpy(rte_pktmbuf_mtod(probe_m, void*), f.data(), f.size());
      probe_m->data_len = static_cast<uint16_t>(f.size());
      probe_m->pkt_len = static_cast<uint32_t>(f.size());
    }
    dp::Verdict verdicts[kBurst];
    dp::ExtraPackets extra;
    const unsigned n = probing ? kBurst : kBurst - 1;
    dp::process_burst(world.ctx, arrival_side(s), burst.m, n, verdicts, extra);
    for (unsigned e = 0; e < extra.n; ++e) rte_pktmbuf_free(extra.pkt[e].m);
    for (unsigned i = 0; i + 1 < kBurst; ++i) {
      if (verdicts[i].kind != dp::Verdict::Kind::Transmit && tally.other++ == 0) tally.first_other = verdicts[i];
    }
    if (probing && verdicts[kBurst - 1].kind == dp::Verdict::Kind::Transmit) {
      forwarded_at[static_cast<unsigned>(k)] = rte_rdtsc();
      seen.store(k, std::memory_order_release);
    }
    rcu_quiescent();
  }
  writer.join();
  if (tally.other != 0) {
    throw std::runtime_error("update latency: a ring frame was not forwarded (" + describe_verdict(tally.first_other) + ")");
  }
  const double tsc_mhz = static_cast<double>(rte_get_tsc_hz()) / 1e6;
  for (unsigned k = 0; k < samples; ++k) {
    if (forwarded_at[k] == 0) {
      ++result.lost;
    } else {
      result.micros.push_back(static_cast<double>(forwarded_at[k] - published[k]) / tsc_mhz);
    }
  }
  return result;
}

}  // namespace tsp::perf
