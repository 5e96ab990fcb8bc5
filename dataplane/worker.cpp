#include "dataplane/worker.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include <ctime>

#include "shared/rcu.hpp"

namespace tsp::dp {

namespace {

// Frames waiting for one output queue: sent when full and once at the end of every burst.
struct Staged {
  static constexpr unsigned kCapacity = kStagedPerOutput;
  rte_mbuf* pkts[kCapacity];
  unsigned n = 0;
};

// Counted in locals over a loop, added to the worker's counters once.
struct LoopCounts {
  uint64_t rx = 0, tx = 0, tx_full = 0;
};

void flush(Staged& staged, const TxQueue& q, LoopCounts& counts) {
  if (staged.n == 0) return;
  const auto n = static_cast<uint16_t>(staged.n);
  uint16_t sent;
  if (q.lock) {
    rte_spinlock_lock(q.lock);
    sent = rte_eth_tx_burst(q.port, q.queue, staged.pkts, n);
    rte_spinlock_unlock(q.lock);
  } else {
    sent = rte_eth_tx_burst(q.port, q.queue, staged.pkts, n);
  }
  counts.tx += sent;
  if (sent < n) {
    rte_pktmbuf_free_bulk(staged.pkts + sent, n - sent);
    counts.tx_full += n - sent;
  }
  staged.n = 0;
}

void stage(Staged& staged, const TxQueue& q, rte_mbuf* m, LoopCounts& counts) {
  if (staged.n == Staged::kCapacity) flush(staged, q, counts);
  staged.pkts[staged.n++] = m;
}

struct Outputs {
  Staged nic[2];
  Staged tap[2];
};

// Packets the reassembly completed during a burst (at most one per fragment).
struct Completed {
  rte_mbuf* pkts[kRxBurst];
  unsigned n = 0;
};

// Fragments the reassembly gave up on, counted as ipv4_fragment drops.
void count_dropped_fragments(Worker& w) {
  if (const uint32_t n = w.reassembly->take_dropped()) w.ctx.counters->drops[static_cast<unsigned>(DropReason::ipv4_fragment)].add(n);
}

// Where a frame goes by its verdict. Reassemble: the fragment goes to the worker's reassembly,
// and a packet it completes into `completed` (nullptr: none expected here, the frame is dropped).
void dispatch(Worker& w, rte_mbuf* m, const Verdict& v, Outputs& out, LoopCounts& counts, Completed* completed) {
  const auto out_side = static_cast<unsigned>(v.out);
  switch (v.kind) {
    case Verdict::Kind::Transmit:
      stage(out.nic[out_side], w.nic_tx[out_side], m, counts);
      break;
    case Verdict::Kind::Exception:
      stage(out.tap[out_side], w.tap_tx[out_side], m, counts);
      break;
    case Verdict::Kind::Drop:
      rte_pktmbuf_free(m);  // the pipeline counted the reason
      break;
    case Verdict::Kind::Reassemble:
      if (w.reassembly == nullptr || completed == nullptr) {
        w.ctx.counters->drop(DropReason::ipv4_fragment);
        rte_pktmbuf_free(m);
      } else if (rte_mbuf* whole = w.reassembly->add(m, w.ctx.now_cycles)) {
        completed->pkts[completed->n++] = whole;
      }
      break;
  }
}

void handle_nic_burst(Worker& w, Side from, rte_mbuf** pkts, uint16_t n, Outputs& out, LoopCounts& counts) {
  Verdict verdicts[kRxBurst];
  ExtraPackets extra;
  process_burst(w.ctx, from, pkts, n, verdicts, extra);
  Completed completed;
  for (uint16_t i = 0; i < n; ++i) dispatch(w, pkts[i], verdicts[i], out, counts, &completed);
  if (w.reassembly != nullptr) {
    // Packets put together from fragments: the reference path, whole (a whole packet is no
    // fragment, so none goes back to the reassembly).
    for (unsigned k = 0; k < completed.n; ++k) {
      dispatch(w, completed.pkts[k], process_packet(w.ctx, from, completed.pkts[k], extra), out, counts, nullptr);
    }
    if (completed.n) w.ctx.counters->reassembled.add(completed.n);
    count_dropped_fragments(w);
  }
  for (unsigned e = 0; e < extra.n; ++e) {
    const auto side = static_cast<unsigned>(extra.pkt[e].out);
    stage(out.nic[side], w.nic_tx[side], extra.pkt[e].m, counts);
  }
}

void handle_tap_burst(Worker& w, Side side, rte_mbuf** pkts, uint16_t n, Outputs& out, LoopCounts& counts) {
  const auto s = static_cast<unsigned>(side);
  for (uint16_t i = 0; i < n; ++i) stage(out.nic[s], w.nic_tx[s], pkts[i], counts);
}

uint64_t coarse_unix_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return static_cast<uint64_t>(ts.tv_sec);
}

}  // namespace

unsigned poll_once(Worker& w) {
  w.ctx.now = coarse_unix_seconds();
  w.ctx.now_cycles = rte_rdtsc();
  if (w.limits && w.limits->generation() != w.limits_seen) w.limits->rebuild(w.ctx.policer, w.limits_seen);
  if (w.reassembly) {
    w.reassembly->expire(w.ctx.now_cycles);
    count_dropped_fragments(w);
  }
  LoopCounts counts;
  Outputs out;
  for (const RxQueue& q : w.rx) {
    rte_mbuf* pkts[kRxBurst];
    const uint16_t n = rte_eth_rx_burst(q.port, q.queue, pkts, kRxBurst);
    if (n == 0) continue;
    counts.rx += n;
    if (q.from_tap) {
      handle_tap_burst(w, q.side, pkts, n, out, counts);
    } else {
      handle_nic_burst(w, q.side, pkts, n, out, counts);
    }
    for (unsigned s = 0; s < 2; ++s) {
      flush(out.nic[s], w.nic_tx[s], counts);
      flush(out.tap[s], w.tap_tx[s], counts);
    }
  }
  WorkerCounters& c = *w.ctx.counters;
  if (counts.rx) c.rx.add(counts.rx);
  if (counts.tx) c.tx.add(counts.tx);
  if (counts.tx_full) c.drops[static_cast<unsigned>(DropReason::tx_full)].add(counts.tx_full);
  return static_cast<unsigned>(counts.rx);
}

int run_worker(void* arg) {
  Worker& w = *static_cast<Worker*>(arg);
  RcuReaderThread rcu_reader;
  while (!w.stop->load(std::memory_order_relaxed)) {
    const unsigned received = poll_once(w);
    rcu_quiescent();
    if (received == 0) rte_delay_us_sleep(kIdleSleepMicroseconds);
  }
  return 0;
}

}  // namespace tsp::dp
