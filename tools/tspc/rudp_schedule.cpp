#include "tools/tspc/rudp_schedule.hpp"

#include <algorithm>
#include <cmath>

namespace tsp::tspc {

RudpSequencer::RudpSequencer(std::chrono::system_clock::time_point socket_start)
    : epoch_(std::chrono::floor<std::chrono::seconds>(socket_start)) {}

uint32_t RudpSequencer::next_sequence_word() {
  // 28 bits of counter; gogoc never gets near the wrap in one session.
  const uint32_t word = 0xF0000000u | (counter_ & 0x0FFFFFFFu);
  ++counter_;
  return word;
}

uint32_t RudpSequencer::timestamp(std::chrono::system_clock::time_point now) const {
  const auto elapsed = std::chrono::duration_cast<Millis>(now - epoch_).count();
  return static_cast<uint32_t>(std::max<int64_t>(elapsed, 0));
}

Millis RetransmitSchedule::rto() const {
  const auto raw = Millis(static_cast<int64_t>(std::lround(srtt_ms_ + 4 * rttvar_ms_)));
  return std::clamp(raw, kMinRto, kMaxRto);
}

void RetransmitSchedule::start_message() {
  transmissions_ = 0;
  consecutive_timeouts_ = 0;
  backoff_ = rto();
}

Millis RetransmitSchedule::next_wait() {
  const int limit = peer_answered_ ? kTriesWithPeer : kTriesBeforePeer;
  if (transmissions_ >= limit) return Millis(0);
  ++transmissions_;
  return backoff_;
}

void RetransmitSchedule::on_timeout() {
  ++consecutive_timeouts_;
  // Backoff only from the fourth consecutive time-out: waits 2, 2, 2, 2, 4, 8, 16, 30 s.
  if (peer_answered_ && consecutive_timeouts_ > 3) backoff_ = std::min(backoff_ * 2, kMaxRto);
}

void RetransmitSchedule::on_answer(Millis rtt) {
  const double sample = static_cast<double>(std::max<int64_t>(rtt.count(), 0));
  const double delta = sample - srtt_ms_;
  srtt_ms_ += delta / 8;
  rttvar_ms_ += (std::abs(delta) - rttvar_ms_) / 4;
  peer_answered_ = true;
  consecutive_timeouts_ = 0;
  backoff_ = rto();
}

}  // namespace tsp::tspc
