// Dataplane::start: EAL, the four ports, the kernel side of the taps, then one poll loop per
// worker lcore. stop() undoes it in reverse; the counters stay readable afterwards.
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_spinlock.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "dataplane/dataplane.hpp"
#include "dataplane/eal.hpp"
#include "dataplane/kernel_if.hpp"
#include "dataplane/neighbor_table.hpp"
#include "dataplane/ports.hpp"
#include "dataplane/tunnel_stats_baseline.hpp"
#include "dataplane/worker.hpp"
#include "dataplane/worker_counters.hpp"
#include "shared/tunnel_entry.hpp"
#include "shared/tunnel_table.hpp"

namespace tsp::dp {

namespace {

constexpr size_t kMaxInterfaceName = 15;  // Linux IFNAMSIZ less the NUL

// The per-source buckets' hash seed (exception_policer.hpp), new at every start.
uint64_t random_seed() {
  std::random_device rd;
  return uint64_t{rd()} << 32 | rd();
}

// What the config parser checks too, for callers that build a DataplaneConfig themselves.
void check_config(const DataplaneConfig& cfg) {
  const auto refuse = [](const std::string& why) { throw std::runtime_error("dataplane configuration: " + why); };
  if (cfg.workers == 0) refuse("at least one worker is needed");
  if (cfg.ipv4_port.empty() || cfg.ipv6_port.empty()) refuse("both DPDK ports must be named");
  if (cfg.ipv4_port == cfg.ipv6_port) refuse("the IPv4 and IPv6 sides need two different DPDK ports");
  for (const auto* tap : {&cfg.ipv4_tap, &cfg.ipv6_tap}) {
    if (tap->empty() || tap->size() > kMaxInterfaceName || tap->find_first_of("/,= \t") != std::string::npos) {
      refuse("tap name '" + *tap + "' is not a Linux interface name of 1 to 15 characters");
    }
  }
  if (cfg.ipv4_tap == cfg.ipv6_tap) refuse("the two taps need two different names");
  if (cfg.tunnel_mtu < kMinTunnelMtu) refuse("tunnel MTU " + std::to_string(cfg.tunnel_mtu) + " is below 1280");
  if (cfg.ipv4_prefix_len < 1 || cfg.ipv4_prefix_len > 32 || cfg.ipv6_prefix_len < 1 || cfg.ipv6_prefix_len > 128) {
    refuse("prefix lengths must be 1..32 (IPv4) and 1..128 (IPv6)");
  }
}

class DpdkDataplane final : public Dataplane {
 public:
  DpdkDataplane(const DataplaneConfig& cfg, const TunnelTable& table) : cfg_(cfg), table_(table) {
    check_config(cfg_);
    try {
      start();
    } catch (...) {
      stop();
      throw;
    }
  }
  ~DpdkDataplane() override { stop(); }

  void stop() override;
  DataplaneStats stats() const override;
  TunnelStats tunnel_stats(uint32_t tunnel_id) const override;
  void restart_tunnel_stats(uint32_t tunnel_id) override;
  void set_exception_limits(const ExceptionLimit (&limits)[kExceptionLimitCount]) override;
  std::vector<PolicedSource> policed_tsp_sources() const override;

 private:
  TunnelStats summed_tunnel_counters(uint32_t tunnel_id) const;

  void start();
  void prepare_workers(const std::vector<unsigned>& lcores);

  const DataplaneConfig cfg_;  // the workers' ctx.cfg points here
  const TunnelTable& table_;
  std::shared_ptr<Eal> eal_;
  std::optional<Ports> ports_;
  std::optional<KernelInterfaces> kernel_;
  std::unique_ptr<NeighborTable> neighbors_;
  std::vector<std::unique_ptr<rte_spinlock_t>> tx_locks_;
  std::vector<std::unique_ptr<WorkerCounters>> counters_;  // kept after stop(), for stats()
  std::vector<unsigned> lcores_;                           // of counters_[i]
  TunnelStatsBaseline baseline_{cfg_.max_tunnels};
  std::optional<ExceptionLimitBoard> limits_;  // the workers' exception limits, changed by a reload
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<unsigned> launched_;
  std::atomic<bool> stop_requested_{false};
  bool stopped_ = false;
};

void DpdkDataplane::start() {
  eal_ = Eal::acquire(cfg_.eal_args);
  std::vector<unsigned> lcores = eal_->worker_lcores();
  if (lcores.size() < cfg_.workers) {
    throw std::runtime_error(std::to_string(cfg_.workers) + " worker(s) need as many worker lcores besides the main "
                             "lcore " + std::to_string(eal_->main_lcore()) + ", and EAL has " +
                             std::to_string(lcores.size()) + " (e.g. '-l 0-" + std::to_string(cfg_.workers) +
                             "', or '--lcores' to put several lcores on one CPU)");
  }
  lcores.resize(cfg_.workers);
  std::vector<int> worker_sockets;
  for (unsigned lcore : lcores) worker_sockets.push_back(static_cast<int>(rte_lcore_to_socket_id(lcore)));

  ports_.emplace(cfg_);
  KernelInterfaces::prepare(cfg_);  // before the taps come up
  ports_->start(cfg_.workers, worker_sockets);
  kernel_.emplace(cfg_);
  neighbors_ = std::make_unique<NeighborTable>();
  limits_.emplace(cfg_.exception_limits, cfg_.workers, rte_get_tsc_hz(), random_seed());
  prepare_workers(lcores);

  for (const auto& w : workers_) {
    if (const int rc = rte_eal_remote_launch(run_worker, w.get(), w->lcore); rc != 0) {
      throw std::runtime_error("cannot launch a worker on lcore " + std::to_string(w->lcore) + ": " +
                               rte_strerror(-rc));
    }
    launched_.push_back(w->lcore);
  }
  std::string lcore_list;
  for (unsigned lcore : lcores_) lcore_list += " " + std::to_string(lcore);
  spdlog::info("dataplane: main lcore {}, {} worker(s) on lcore(s){}", eal_->main_lcore(), lcores_.size(), lcore_list);
  for (Side side : {Side::Ipv4, Side::Ipv6}) {
    const bool v4 = side == Side::Ipv4;
    spdlog::info("dataplane: {} port {}", v4 ? "IPv4" : "IPv6", ports_->describe(ports_->nic(side)));
    spdlog::info("dataplane: {} tap {} as {}", v4 ? "IPv4" : "IPv6", v4 ? cfg_.ipv4_tap : cfg_.ipv6_tap,
                 ports_->describe(ports_->tap(side)));
  }
  spdlog::info("dataplane: frames for the kernel limited to {} (shared by the workers)",
               exception_limits_text(cfg_.exception_limits));
}

void DpdkDataplane::set_exception_limits(const ExceptionLimit (&limits)[kExceptionLimitCount]) {
  if (!limits_) return;
  limits_->publish(limits);
  spdlog::info("dataplane: frames for the kernel now limited to {}", exception_limits_text(limits));
}

std::vector<PolicedSource> DpdkDataplane::policed_tsp_sources() const {
  std::map<uint32_t, uint64_t> by_address;
  for (const auto& w : workers_)
    w->ctx.policer.tsp_source.for_each_policed([&](uint32_t source, uint64_t n) { by_address[source] += n; });
  std::vector<PolicedSource> out;
  for (const auto& [address, frames] : by_address) out.push_back({Ipv4Addr{address}, frames});
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.frames > b.frames; });
  return out;
}

void DpdkDataplane::prepare_workers(const std::vector<unsigned>& lcores) {
  // One lock per TX queue that several workers share.
  const auto tx_queue_for = [&](const PortInfo& port, unsigned worker, std::vector<rte_spinlock_t*>& locks) {
    TxQueue q{port.id, static_cast<uint16_t>(worker % port.tx_queues), nullptr};
    if (ports_->tx_queue_shared(port)) {
      if (locks.empty()) {
        for (unsigned i = 0; i < port.tx_queues; ++i) {
          tx_locks_.push_back(std::make_unique<rte_spinlock_t>());
          rte_spinlock_init(tx_locks_.back().get());
          locks.push_back(tx_locks_.back().get());
        }
      }
      q.lock = locks[q.queue];
    }
    return q;
  };
  std::vector<rte_spinlock_t*> nic_locks[2], tap_locks[2];

  for (unsigned i = 0; i < lcores.size(); ++i) {
    counters_.push_back(std::make_unique<WorkerCounters>(table_.capacity()));
    lcores_.push_back(lcores[i]);
    auto w = std::make_unique<Worker>();
    w->lcore = lcores[i];
    w->stop = &stop_requested_;
    for (Side side : {Side::Ipv4, Side::Ipv6}) {
      const auto s = static_cast<unsigned>(side);
      const PortInfo& nic = ports_->nic(side);
      const PortInfo& tap = ports_->tap(side);
      // Worker i polls queue i of each port that has one.
      if (i < nic.rx_queues) w->rx.push_back({nic.id, static_cast<uint16_t>(i), side, false});
      if (i < tap.rx_queues) w->rx.push_back({tap.id, static_cast<uint16_t>(i), side, true});
      w->nic_tx[s] = tx_queue_for(nic, i, nic_locks[s]);
      w->tap_tx[s] = tx_queue_for(tap, i, tap_locks[s]);
      w->ctx.side[s] = PortAddrs{nic.id, tap.id, nic.mac};
    }
    w->ctx.cfg = &cfg_;
    w->ctx.table = &table_;
    w->ctx.neighbors = neighbors_.get();
    w->ctx.counters = counters_.back().get();
    w->ctx.pool = ports_->pool(static_cast<int>(rte_lcore_to_socket_id(lcores[i])));
    w->limits = &*limits_;
    limits_->rebuild(w->ctx.policer, w->limits_seen);
    w->reassembly = std::make_unique<Ipv4Reassembly>(rte_get_tsc_hz(), static_cast<int>(rte_lcore_to_socket_id(lcores[i])));
    workers_.push_back(std::move(w));
  }
}

void DpdkDataplane::stop() {
  if (stopped_) return;
  stopped_ = true;
  stop_requested_.store(true, std::memory_order_relaxed);
  for (unsigned lcore : launched_) rte_eal_wait_lcore(lcore);
  launched_.clear();
  if (ports_) {
    std::string lcore_list;
    for (unsigned lcore : lcores_) lcore_list += " " + std::to_string(lcore);
    spdlog::info("dataplane: workers on lcore(s){} stopped; closing ports {} and {}, removing taps {} and {}",
                 lcore_list, cfg_.ipv4_port, cfg_.ipv6_port, cfg_.ipv4_tap, cfg_.ipv6_tap);
  }
  workers_.clear();  // with their reassemblies' fragments, before the pools go
  kernel_.reset();  // the rules; addresses and routes go with the taps
  ports_.reset();
  neighbors_.reset();
  tx_locks_.clear();
  eal_.reset();  // the last holder shuts EAL down
}

DataplaneStats DpdkDataplane::stats() const {
  DataplaneStats s;
  for (size_t i = 0; i < counters_.size(); ++i) s.workers.push_back(counters_[i]->snapshot(lcores_[i]));
  return s;
}

TunnelStats DpdkDataplane::summed_tunnel_counters(uint32_t tunnel_id) const {
  TunnelStats sum;
  for (const auto& c : counters_) c->add_tunnel_stats(tunnel_id, sum);
  return sum;
}

TunnelStats DpdkDataplane::tunnel_stats(uint32_t tunnel_id) const {
  return baseline_.since_restart(tunnel_id, summed_tunnel_counters(tunnel_id));
}

void DpdkDataplane::restart_tunnel_stats(uint32_t tunnel_id) {
  baseline_.restart(tunnel_id, summed_tunnel_counters(tunnel_id));
}

}  // namespace

std::unique_ptr<Dataplane> Dataplane::start(const DataplaneConfig& cfg, const TunnelTable& table) {
  return std::make_unique<DpdkDataplane>(cfg, table);
}

}  // namespace tsp::dp
