// gogoc's reliable-UDP bookkeeping (tsp-protocol.md §1.2, §1.3), without sockets or sleeping:
// the sequence words and timestamps of one socket, and how long to wait for each
// transmission. The UDP transport drives it with the real clock; tests with made-up times.
#pragma once

#include <chrono>
#include <cstdint>

namespace tsp::tspc {

using Millis = std::chrono::milliseconds;

// The 8-byte header fields of one socket: the first word is 0xF0000000 | counter, the counter
// starting at 0xF0 for every new socket and advancing once per new message (a retransmission
// reuses it); the timestamp counts milliseconds since the whole second the socket started in.
class RudpSequencer {
 public:
  explicit RudpSequencer(std::chrono::system_clock::time_point socket_start);

  uint32_t next_sequence_word();
  uint32_t timestamp(std::chrono::system_clock::time_point now) const;

 private:
  std::chrono::system_clock::time_point epoch_;
  uint32_t counter_ = 0xF0;
};

// Retransmission time-out state of one session (RTO persists across its messages).
// Before the peer has answered once: 3 transmissions, 2 s apart. After: up to 8, the wait
// doubling from the fourth consecutive time-out on, capped at 30 s. RTT smoothing as gogoc:
// srtt += (rtt - srtt) / 8, rttvar += (|rtt - srtt| - rttvar) / 4, RTO = srtt + 4 rttvar
// clamped to [2 s, 30 s].
class RetransmitSchedule {
 public:
  static constexpr Millis kMinRto{2000};
  static constexpr Millis kMaxRto{30000};
  static constexpr int kTriesBeforePeer = 3;
  static constexpr int kTriesWithPeer = 8;

  // A new message: resets the per-message count and backoff.
  void start_message();
  // How long to wait for an answer to the transmission about to go out; nullopt-like 0 when
  // the message has used all its transmissions (give up).
  Millis next_wait();
  // The current transmission went unanswered for its whole wait.
  void on_timeout();
  // The answer came `rtt` after the transmission it matched.
  void on_answer(Millis rtt);

  bool peer_answered() const { return peer_answered_; }
  Millis rto() const;
  int transmissions() const { return transmissions_; }

 private:
  double srtt_ms_ = 0;
  double rttvar_ms_ = 500;
  bool peer_answered_ = false;
  int transmissions_ = 0;
  int consecutive_timeouts_ = 0;
  Millis backoff_{0};
};

}  // namespace tsp::tspc
