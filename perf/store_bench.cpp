// How long a session waits in one store call while the daemon's store (group commit, 10 ms
// windows) takes tunnel commits at a steady rate, with the WAL checkpointed inside SQLite's
// commits ("inline", SQLite's own) or by the store's own thread ("background", what
// tspbrokerd does). The two run in turn in the same process, round after round, on the same
// disk: compare them side by side, never with figures from another run. Release build:
//
//   store_bench [--rate N] [--threads T] [--seconds S] [--rounds R] [--tunnels K] [--dir DIR]
//               [--require-checkpoints]
//
// Defaults: 10000 commits/s (the control plane's target) over 2 threads (the UDP and TCP
// servers), 4 s per run, 3 rounds, ids over 100000 tunnels, a temporary directory under /tmp
// (give --dir on the disk that will hold the broker's file: that disk's syncs are the point).
// A call: one transaction that saves a tunnel and deletes the one that held the slot before.
// Exits 1 when a run made fewer calls than asked or a background checkpoint failed (and, with
// --require-checkpoints, for the smoke test, when the background runs checkpointed nothing).
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "control/store/store.hpp"

namespace {

using namespace tsp;
using Clock = std::chrono::steady_clock;

struct Options {
  unsigned rate = 10000, threads = 2, seconds = 4, rounds = 3;
  uint32_t tunnels = 100000;
  std::string dir = "/tmp";
  bool require_checkpoints = false;  // the smoke test: fail unless background runs checkpoint
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr, "store_bench: %s\nusage: store_bench [--rate N] [--threads T] [--seconds S] [--rounds R] "
                       "[--tunnels K] [--dir DIR] [--require-checkpoints]\n", why);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--require-checkpoints") {
      o.require_checkpoints = true;
      continue;
    }
    if (i + 1 >= argc) usage(("missing value after " + arg).c_str());
    const char* value = argv[++i];
    char* end = nullptr;
    const unsigned long n = std::strtoul(value, &end, 10);
    const bool number = *value != '\0' && *end == '\0' && n > 0 && n <= 10'000'000;
    if (arg == "--dir") o.dir = value;
    else if (!number) usage(("not a positive number: " + arg + " " + value).c_str());
    else if (arg == "--rate") o.rate = static_cast<unsigned>(n);
    else if (arg == "--threads") o.threads = static_cast<unsigned>(n);
    else if (arg == "--seconds") o.seconds = static_cast<unsigned>(n);
    else if (arg == "--rounds") o.rounds = static_cast<unsigned>(n);
    else if (arg == "--tunnels") o.tunnels = static_cast<uint32_t>(n);
    else usage(("unknown option " + arg).c_str());
  }
  return o;
}

// A distinct anonymous v6v4 tunnel per id, as the service writes them.
store::TunnelRecord tunnel(uint32_t id, int64_t now) {
  store::TunnelRecord t;
  t.id = id;
  t.anonymous = true;
  t.mode = store::TunnelModeRec::V6V4;
  t.client_v4 = Ipv4Addr{0xC6336400u + id};  // 198.51.100.0 onwards
  t.server_v4 = *Ipv4Addr::parse("192.0.2.1");
  t.client_v6 = *Ipv6Addr::parse("2001:db8:f001:1::");
  t.client_v6.bytes[12] = static_cast<uint8_t>(id >> 24);
  t.client_v6.bytes[13] = static_cast<uint8_t>(id >> 16);
  t.client_v6.bytes[14] = static_cast<uint8_t>(id >> 8);
  t.client_v6.bytes[15] = static_cast<uint8_t>(id);
  t.server_v6 = *Ipv6Addr::parse("2001:db8:f001:1::1");
  t.endpoint_pool = "P_Endpoints";
  t.keepalive_interval = 30;
  t.mtu = 1280;
  t.transport = "udp";
  t.created_at = now;
  t.last_seen = now;
  return t;
}

struct RunResult {
  std::vector<int64_t> waits_us;  // one per call
  store::CheckpointStats checkpoints;
  double seconds = 0;
  uintmax_t wal_bytes = 0;  // the WAL file's size when the run ends
};

RunResult run(const Options& o, bool background) {
  char templ[4096];
  std::snprintf(templ, sizeof templ, "%s/tsp-store-bench-XXXXXX", o.dir.c_str());
  if (mkdtemp(templ) == nullptr) usage(("cannot make a directory in " + o.dir).c_str());
  const std::string dir = templ;
  RunResult result;
  {
    // Every slot taken first: the file has the size of a full broker. Closed before the run,
    // which checkpoints it: both ways start with an empty WAL.
    auto filled = store::Store::open_sqlite(dir + "/broker.db");
    filled->transaction([&](store::Store& s) {
      for (uint32_t id = 0; id < o.tunnels; ++id) s.save_tunnel(tunnel(id, 1));
    });
    filled.reset();
    auto store = store::Store::open_sqlite(dir + "/broker.db", {store::kDaemonGroupCommitWindow, background});
    const auto calls_per_thread = static_cast<size_t>(o.rate) * o.seconds / o.threads;
    const auto interval = std::chrono::nanoseconds(1'000'000'000LL * o.threads / o.rate);
    std::vector<std::vector<int64_t>> waits(o.threads);
    std::vector<std::thread> threads;
    const auto start = Clock::now();
    for (unsigned t = 0; t < o.threads; ++t) {
      threads.emplace_back([&, t] {
        auto& mine = waits[t];
        mine.reserve(calls_per_thread);
        for (size_t k = 0; k < calls_per_thread; ++k) {
          std::this_thread::sleep_until(start + interval * k + interval * t / o.threads);
          const auto id = static_cast<uint32_t>((k * o.threads + t) % o.tunnels);
          const auto began = Clock::now();
          store->transaction([&](store::Store& s) {
            s.delete_tunnel(id);
            s.save_tunnel(tunnel(id, 1700000000 + static_cast<int64_t>(k)));
          });
          mine.push_back(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - began).count());
        }
      });
    }
    for (auto& th : threads) th.join();
    result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    result.checkpoints = store->checkpoint_stats();
    std::error_code ec;
    result.wal_bytes = std::filesystem::file_size(dir + "/broker.db-wal", ec);
    for (auto& w : waits) result.waits_us.insert(result.waits_us.end(), w.begin(), w.end());
  }
  std::filesystem::remove_all(dir);
  return result;
}

double percentile(std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  return static_cast<double>(sorted[std::min(sorted.size() - 1, static_cast<size_t>(p * sorted.size()))]);
}

struct Summary {
  double p50, p99, p999, max;
};

Summary summarise(std::vector<int64_t> waits) {
  std::sort(waits.begin(), waits.end());
  return {percentile(waits, 0.50), percentile(waits, 0.99), percentile(waits, 0.999),
          waits.empty() ? 0.0 : static_cast<double>(waits.back())};
}

void print_row(const char* mode, unsigned round, const RunResult& r, const Summary& s) {
  const auto& c = r.checkpoints;
  std::printf("%-11s %5u %8zu %8.0f %7.0f %7.0f %8.0f %7.2f %7.1f %6llu %6llu %8.2f %7llu %9.2f\n", mode, round,
              r.waits_us.size(), r.waits_us.size() / r.seconds, s.p50, s.p99, s.p999, s.max / 1000.0,
              r.wal_bytes / 1e6, static_cast<unsigned long long>(c.runs), static_cast<unsigned long long>(c.busy),
              c.longest_us / 1000.0, static_cast<unsigned long long>(c.writer_runs), c.longest_writer_us / 1000.0);
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  std::printf("store_bench: %u commits/s over %u threads, %u s per run, %u rounds, %u tunnels, files in %s\n\n", o.rate,
              o.threads, o.seconds, o.rounds, o.tunnels, o.dir.c_str());
  // wal_MB: the WAL's size at the end; ckpts/busy/ckpt_ms: background runs, those that found
  // the writer's catch-up running, the slowest (failures are reported below the row);
  // catchups/catchup_ms: the writer's own share after them (under the store's lock).
  std::printf("%-11s %5s %8s %8s %7s %7s %8s %7s %7s %6s %6s %8s %7s %9s\n", "checkpoint", "round", "calls",
              "calls/s", "p50_us", "p99_us", "p99.9_us", "max_ms", "wal_MB", "ckpts", "busy", "ckpt_ms", "catchups",
              "catchup_ms");
  std::vector<int64_t> all[2];  // inline, background
  const size_t expected_calls = static_cast<size_t>(o.rate) * o.seconds / o.threads * o.threads;
  bool ok = true;
  for (unsigned r = 0; r < o.rounds; ++r) {
    for (unsigned i = 0; i < 2; ++i) {
      const bool background = (i + r) % 2 == 1;  // the order alternates from round to round
      RunResult res = run(o, background);
      const Summary s = summarise(res.waits_us);
      print_row(background ? "background" : "inline", r + 1, res, s);
      if (res.waits_us.size() != expected_calls) {
        std::printf("  FAILED: %zu calls made, %zu expected\n", res.waits_us.size(), expected_calls);
        ok = false;
      }
      ok = ok && res.checkpoints.failures == 0;
      if (o.require_checkpoints && background && (res.checkpoints.frames_copied == 0 || res.checkpoints.writer_runs == 0)) {
        std::printf("  FAILED: no background checkpoint copied pages, or no catch-up followed one\n");
        ok = false;
      }
      if (res.checkpoints.failures > 0)
        std::printf("  %llu checkpoint(s) failed, the last: %s\n",
                    static_cast<unsigned long long>(res.checkpoints.failures), res.checkpoints.last_error.c_str());
      auto& into = all[background ? 1 : 0];
      into.insert(into.end(), res.waits_us.begin(), res.waits_us.end());
    }
  }
  const Summary in = summarise(all[0]), bg = summarise(all[1]);
  auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
  std::printf("\nkey ratios (inline / background, all rounds): p50 %.2f p99 %.2f p99.9 %.2f max %.2f "
              "(p99.9 %.0f / %.0f us, max %.2f / %.2f ms)\n",
              ratio(in.p50, bg.p50), ratio(in.p99, bg.p99), ratio(in.p999, bg.p999), ratio(in.max, bg.max), in.p999,
              bg.p999, in.max / 1000.0, bg.max / 1000.0);
  if (!ok) std::printf("store_bench: FAILED (above)\n");
  return ok ? 0 : 1;
}
