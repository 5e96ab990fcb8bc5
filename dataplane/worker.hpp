// The poll loop of one worker lcore, top to bottom: receive a burst from each of its queues,
// hand each frame to the pipeline (NIC ports) or pass it through (taps), stage the frames per
// output, transmit each output once per burst. Once per loop: a fresh coarse clock, an RCU
// quiescent state, and a short sleep when nothing came in (a spinning worker would starve the
// control plane on a machine with few cores).
#pragma once

#include <rte_spinlock.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "dataplane/pipeline.hpp"
#include "dataplane/reassembly.hpp"

namespace tsp::dp {

struct RxQueue {
  uint16_t port = 0, queue = 0;
  Side side = Side::Ipv4;
  bool from_tap = false;  // the kernel's frames: out the NIC port of `side`, unchanged
};

struct TxQueue {
  uint16_t port = 0, queue = 0;
  rte_spinlock_t* lock = nullptr;  // set when other workers transmit on the same queue
};

// Everything one worker uses; filled in before launch and not changed while it runs.
struct Worker {
  unsigned lcore = 0;
  std::vector<RxQueue> rx;
  TxQueue nic_tx[2];  // by Side
  TxQueue tap_tx[2];
  PipelineContext ctx;  // ctx.counters is this worker's own
  const std::atomic<bool>* stop = nullptr;
  const ExceptionLimitBoard* limits = nullptr;  // ctx.policer follows it when set
  uint64_t limits_seen = 0;                     // the board's generation ctx.policer reflects
  std::unique_ptr<Ipv4Reassembly> reassembly;   // for Reassemble verdicts; without one they are dropped
};

inline constexpr uint16_t kRxBurst = 32;
inline constexpr unsigned kStagedPerOutput = 64;  // frames held per output before a transmit
inline constexpr unsigned kIdleSleepMicroseconds = 80;

// Entry point for rte_eal_remote_launch (`arg` is a Worker*): registers the lcore as an RCU
// reader, polls until *stop, returns 0.
int run_worker(void* arg);

// One pass over every queue of `w`; returns the frames received. The caller is an online RCU
// reader and reports the quiescent state. Exposed for tests that drive a worker by hand.
unsigned poll_once(Worker& w);

}  // namespace tsp::dp
