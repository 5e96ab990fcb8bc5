// The four ports a broker runs on: the NIC port of each side, found by its DPDK device name,
// and that side's exception tap (net_tap), created here with the NIC port's MAC so that the
// kernel behind it answers for the broker's address as if it owned the NIC.
//
// Queues: each port gets one RX and one TX queue per worker, or as many as it has. A port
// with fewer RX queues is polled by fewer workers (worker w polls queue w); a TX queue shared
// by several workers is guarded by a spinlock (tx_queue_shared). RSS spreads flows over the
// RX queues where the device supports it.
#pragma once

#include <rte_ether.h>
#include <rte_mempool.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "dataplane/dataplane.hpp"
#include "dataplane/pipeline.hpp"

namespace tsp::dp {

struct PortInfo {
  std::string name;  // DPDK device name
  uint16_t id = 0;
  rte_ether_addr mac{};
  int socket = 0;  // NUMA node of the device (the main lcore's when the device has none)
  uint16_t rx_queues = 0, tx_queues = 0;  // once configured
  bool rss = false;
  bool started = false;
};

class Ports {
 public:
  // Finds the NIC ports and creates the taps (kernel interfaces exist, links down, when this
  // returns). Throws std::runtime_error saying which port or tap and why.
  explicit Ports(const DataplaneConfig& cfg);
  // Stops and closes all four ports, removes the taps (and so their kernel interfaces), frees
  // the mempools. The caller has stopped the workers.
  ~Ports();
  Ports(const Ports&) = delete;
  Ports& operator=(const Ports&) = delete;

  // Creates a mempool per NUMA socket in use (the ports' and `worker_sockets`), sized for
  // every queue, and configures and starts the four ports for `workers` workers.
  void start(unsigned workers, const std::vector<int>& worker_sockets);

  const PortInfo& nic(Side side) const { return nic_[static_cast<unsigned>(side)]; }
  const PortInfo& tap(Side side) const { return tap_[static_cast<unsigned>(side)]; }
  bool tx_queue_shared(const PortInfo& port) const { return port.tx_queues < workers_; }
  // The mempool of `socket`, or of another socket when that one has none.
  rte_mempool* pool(int socket) const;
  std::string describe(const PortInfo& port) const;  // one line for the log

 private:
  void configure(PortInfo& port, uint16_t mtu, unsigned workers);
  void close_all() noexcept;

  const DataplaneConfig& cfg_;
  PortInfo nic_[2];
  PortInfo tap_[2];
  std::string tap_device_[2];  // vdev names of the taps created ("" until created)
  std::map<int, rte_mempool*> pools_;
  unsigned workers_ = 0;
};

}  // namespace tsp::dp
