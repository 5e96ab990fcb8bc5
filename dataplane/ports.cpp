#include "dataplane/ports.hpp"

#include <net/if.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "dataplane/worker.hpp"

namespace tsp::dp {

namespace {

constexpr uint16_t kRxDescriptors = 1024;
constexpr uint16_t kTxDescriptors = 1024;
constexpr unsigned kMempoolCache = 256;
// Frames a worker may hold besides the descriptors: staged for transmission, one burst being
// processed, the packets the pipeline builds, the fragments its reassembly keeps.
constexpr unsigned kInFlightPerWorker =
    4 * kStagedPerOutput + kRxBurst + ExtraPackets::kMax + Ipv4Reassembly::kMaxHeldMbufs;
constexpr unsigned kSpareMbufs = 1024;
// Outer headers the IPv4 side adds to a tunnel's inner packet (IPv4 + UDP), and what a
// frame carries besides its IP packet (Ethernet header, one VLAN tag, FCS).
constexpr uint16_t kOuterHeaders = 20 + 8;
constexpr uint16_t kFrameOverhead = RTE_ETHER_HDR_LEN + 4 + RTE_ETHER_CRC_LEN;

std::string mac_text(const rte_ether_addr& mac) {
  char text[RTE_ETHER_ADDR_FMT_SIZE];
  rte_ether_format_addr(text, sizeof text, &mac);
  return text;
}

std::string port_names() {
  std::string out;
  uint16_t id = 0;
  RTE_ETH_FOREACH_DEV(id) {
    char name[RTE_ETH_NAME_MAX_LEN] = {};
    if (rte_eth_dev_get_name_by_port(id, name) == 0) out += (out.empty() ? "" : ", ") + std::string(name);
  }
  return out.empty() ? "none" : out;
}

[[noreturn]] void fail(const PortInfo& port, const std::string& what, int rc) {
  throw std::runtime_error("DPDK port " + port.name + ": " + what + ": " + rte_strerror(rc < 0 ? -rc : rc));
}

int socket_of(uint16_t port_id) {
  const int socket = rte_eth_dev_socket_id(port_id);
  return socket >= 0 ? socket : static_cast<int>(rte_socket_id());
}

PortInfo find_nic_port(const std::string& name, std::string_view side) {
  PortInfo port;
  port.name = name;
  if (rte_eth_dev_get_port_by_name(name.c_str(), &port.id) != 0) {
    throw std::runtime_error("no DPDK port named '" + name + "' for the " + std::string(side) +
                             " side (ports: " + port_names() +
                             "; a virtual device needs '--vdev' in the eal line, a PCI device a DPDK-bound NIC)");
  }
  port.socket = socket_of(port.id);
  if (rte_eth_macaddr_get(port.id, &port.mac) != 0 || !rte_is_valid_assigned_ether_addr(&port.mac)) {
    // Ring and null ports have no address: give them a locally administered one, which the
    // tap and every frame we build then use.
    rte_eth_random_addr(port.mac.addr_bytes);
    rte_eth_dev_default_mac_addr_set(port.id, &port.mac);
  }
  return port;
}

}  // namespace

Ports::Ports(const DataplaneConfig& cfg) : cfg_(cfg) {
  nic_[0] = find_nic_port(cfg.ipv4_port, "IPv4");
  nic_[1] = find_nic_port(cfg.ipv6_port, "IPv6");
  if (nic_[0].id == nic_[1].id) {
    throw std::runtime_error("the IPv4 and IPv6 sides both name DPDK port '" + cfg.ipv4_port +
                             "': each side needs its own port");
  }
  const std::string* ifnames[2] = {&cfg.ipv4_tap, &cfg.ipv6_tap};
  try {
    for (unsigned s = 0; s < 2; ++s) {
      const std::string& ifname = *ifnames[s];
      // A tap of that name would be joined as one more queue, not created: refuse instead.
      if (if_nametoindex(ifname.c_str()) != 0) {
        throw std::runtime_error("network interface '" + ifname +
                                 "' already exists (another broker running, or left over: 'ip link del " + ifname +
                                 "')");
      }
      const std::string device = "net_tap_" + ifname;
      const std::string args = "iface=" + ifname + ",mac=" + mac_text(nic_[s].mac);
      if (const int rc = rte_eal_hotplug_add("vdev", device.c_str(), args.c_str()); rc != 0) {
        throw std::runtime_error("cannot create tap '" + ifname + "' (" + device + "," + args +
                                 "): " + rte_strerror(-rc) + " (is the net_tap driver loaded?)");
      }
      tap_device_[s] = device;
      tap_[s].name = device;
      if (rte_eth_dev_get_port_by_name(device.c_str(), &tap_[s].id) != 0) {
        throw std::runtime_error("tap '" + ifname + "' was created but has no DPDK port");
      }
      tap_[s].socket = socket_of(tap_[s].id);
      // The driver gives the port the MAC of its 'mac' argument but may leave the kernel
      // interface with a random one; setting it through the port sets both.
      if (const int rc = rte_eth_dev_default_mac_addr_set(tap_[s].id, &nic_[s].mac); rc != 0) {
        throw std::runtime_error("cannot give tap '" + ifname + "' the MAC " + mac_text(nic_[s].mac) + ": " +
                                 rte_strerror(-rc));
      }
      rte_eth_macaddr_get(tap_[s].id, &tap_[s].mac);
    }
  } catch (...) {
    close_all();
    throw;
  }
}

Ports::~Ports() { close_all(); }

void Ports::start(unsigned workers, const std::vector<int>& worker_sockets) {
  workers_ = workers;
  uint16_t mtu[2] = {static_cast<uint16_t>(cfg_.tunnel_mtu + kOuterHeaders), cfg_.tunnel_mtu};
  const uint16_t max_frame = static_cast<uint16_t>(mtu[0] + kFrameOverhead);
  const auto data_room =
      static_cast<uint16_t>(RTE_PKTMBUF_HEADROOM + std::max<uint16_t>(RTE_MBUF_DEFAULT_DATAROOM, max_frame));

  // Every queue of every port may be full at once, on whichever socket: size each pool for all.
  const unsigned mbufs = kSpareMbufs + workers * kInFlightPerWorker + kMempoolCache * 3 / 2 * rte_lcore_count() +
                        4 * workers * (kRxDescriptors + kTxDescriptors);
  std::vector<int> sockets = worker_sockets;
  for (const PortInfo* port : {&nic_[0], &nic_[1], &tap_[0], &tap_[1]}) sockets.push_back(port->socket);
  for (int socket : sockets) {
    if (pools_.count(socket)) continue;
    const std::string name = "tsp_mbufs_" + std::to_string(socket);
    rte_mempool* pool = rte_pktmbuf_pool_create(name.c_str(), mbufs, kMempoolCache, 0, data_room, socket);
    if (!pool) {
      throw std::runtime_error("cannot create a pool of " + std::to_string(mbufs) + " packet buffers of " +
                               std::to_string(data_room) + " bytes on socket " + std::to_string(socket) + ": " +
                               rte_strerror(rte_errno) + " (give EAL more memory: -m, or more hugepages)");
    }
    pools_.emplace(socket, pool);
  }

  for (unsigned s = 0; s < 2; ++s) configure(nic_[s], mtu[s], workers);
  for (unsigned s = 0; s < 2; ++s) configure(tap_[s], 0, workers);
}

rte_mempool* Ports::pool(int socket) const {
  if (auto it = pools_.find(socket); it != pools_.end()) return it->second;
  return pools_.empty() ? nullptr : pools_.begin()->second;
}

void Ports::configure(PortInfo& port, uint16_t mtu, unsigned workers) {
  rte_eth_dev_info info;
  if (const int rc = rte_eth_dev_info_get(port.id, &info); rc != 0) fail(port, "device info", rc);
  port.rx_queues = static_cast<uint16_t>(std::min<unsigned>(workers, info.max_rx_queues));
  port.tx_queues = static_cast<uint16_t>(std::min<unsigned>(workers, info.max_tx_queues));
  if (port.rx_queues == 0 || port.tx_queues == 0) {
    throw std::runtime_error("DPDK port " + port.name + " has no RX or TX queue");
  }

  rte_eth_conf conf;
  std::memset(&conf, 0, sizeof conf);
  const uint64_t rss = info.flow_type_rss_offloads & RTE_ETH_RSS_IP;
  if (port.rx_queues > 1 && rss != 0) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf = rss;
    port.rss = true;
  }
  if (mtu > RTE_ETHER_MTU) {
    if (info.max_mtu < mtu) {
      throw std::runtime_error("DPDK port " + port.name + " supports an MTU of " + std::to_string(info.max_mtu) +
                               ", the tunnel MTU " + std::to_string(cfg_.tunnel_mtu) + " needs " + std::to_string(mtu));
    }
    conf.rxmode.mtu = mtu;
  }
  if (const int rc = rte_eth_dev_configure(port.id, port.rx_queues, port.tx_queues, &conf); rc != 0) {
    fail(port, "configure " + std::to_string(port.rx_queues) + " RX / " + std::to_string(port.tx_queues) + " TX queues",
         rc);
  }
  uint16_t rx_desc = kRxDescriptors, tx_desc = kTxDescriptors;
  if (const int rc = rte_eth_dev_adjust_nb_rx_tx_desc(port.id, &rx_desc, &tx_desc); rc != 0) {
    fail(port, "descriptor counts", rc);
  }
  rte_mempool* mp = pool(port.socket);
  for (uint16_t q = 0; q < port.rx_queues; ++q) {
    if (const int rc = rte_eth_rx_queue_setup(port.id, q, rx_desc, static_cast<unsigned>(port.socket), nullptr, mp);
        rc != 0) {
      fail(port, "RX queue " + std::to_string(q), rc);
    }
  }
  for (uint16_t q = 0; q < port.tx_queues; ++q) {
    if (const int rc = rte_eth_tx_queue_setup(port.id, q, tx_desc, static_cast<unsigned>(port.socket), nullptr);
        rc != 0) {
      fail(port, "TX queue " + std::to_string(q), rc);
    }
  }
  // Neighbor discovery runs on multicast; not every device filters (ENOTSUP is fine).
  rte_eth_allmulticast_enable(port.id);
  if (const int rc = rte_eth_dev_start(port.id); rc != 0) fail(port, "start", rc);
  port.started = true;
}

std::string Ports::describe(const PortInfo& port) const {
  return port.name + " (port " + std::to_string(port.id) + ", MAC " + mac_text(port.mac) + ", socket " +
         std::to_string(port.socket) + ", " + std::to_string(port.rx_queues) + " RX / " +
         std::to_string(port.tx_queues) + " TX queue(s)" + (port.rss ? ", RSS" : "") +
         (port.tx_queues < workers_ ? ", TX queues shared by workers" : "") + ")";
}

void Ports::close_all() noexcept {
  for (PortInfo* port : {&nic_[0], &nic_[1], &tap_[0], &tap_[1]}) {
    if (port->started) rte_eth_dev_stop(port->id);
    port->started = false;
  }
  // The NIC ports stay probed (EAL's --vdev or PCI owns them) but are closed; the taps are
  // removed, which deletes their kernel interfaces.
  for (unsigned s = 0; s < 2; ++s) {
    if (nic_[s].rx_queues != 0 || nic_[s].tx_queues != 0) rte_eth_dev_close(nic_[s].id);
    nic_[s].rx_queues = nic_[s].tx_queues = 0;
    if (!tap_device_[s].empty()) rte_eal_hotplug_remove("vdev", tap_device_[s].c_str());
    tap_device_[s].clear();
  }
  for (auto& [socket, pool] : pools_) rte_mempool_free(pool);
  pools_.clear();
}

}  // namespace tsp::dp
