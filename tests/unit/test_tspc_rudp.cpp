// tspc's reliable-UDP bookkeeping and its transport/version order, with made-up times.
#include <catch2/catch.hpp>

#include <vector>

#include "tools/tspc/retry_policy.hpp"
#include "tools/tspc/rudp_schedule.hpp"
#include "tools/tspc/version_fallback.hpp"

using namespace tsp::tspc;
using namespace std::chrono_literals;

TEST_CASE("RUDP sequence words start at F00000F0 and advance per message", "[tspc][rudp]") {
  const auto start = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000)) + 250ms;
  RudpSequencer seq(start);
  CHECK(seq.next_sequence_word() == 0xF00000F0u);
  CHECK(seq.next_sequence_word() == 0xF00000F1u);
  CHECK(seq.next_sequence_word() == 0xF00000F2u);
  SECTION("timestamps count ms from the whole second the socket started in") {
    CHECK(seq.timestamp(start) == 250);
    CHECK(seq.timestamp(start + 1500ms) == 1750);
    CHECK(seq.timestamp(start - 2s) == 0);  // a clock step back never wraps
  }
  SECTION("a new socket starts over") {
    RudpSequencer again(start + 10s);
    CHECK(again.next_sequence_word() == 0xF00000F0u);
  }
}

namespace {

std::vector<long> waits_until_give_up(RetransmitSchedule& s) {
  std::vector<long> waits;
  s.start_message();
  for (;;) {
    const Millis w = s.next_wait();
    if (w.count() == 0) return waits;
    waits.push_back(static_cast<long>(w.count()));
    s.on_timeout();
  }
}

}  // namespace

TEST_CASE("RUDP retransmission schedule", "[tspc][rudp]") {
  RetransmitSchedule s;
  SECTION("before the peer ever answered: 3 transmissions 2 s apart") {
    CHECK(waits_until_give_up(s) == std::vector<long>{2000, 2000, 2000});
    CHECK(s.transmissions() == 3);
    CHECK_FALSE(s.peer_answered());
  }
  SECTION("after an answer: 8 transmissions, backoff from the fourth time-out, capped at 30 s") {
    s.start_message();
    REQUIRE(s.next_wait() == 2000ms);
    s.on_answer(10ms);
    CHECK(s.peer_answered());
    CHECK(waits_until_give_up(s) == std::vector<long>{2000, 2000, 2000, 2000, 4000, 8000, 16000, 30000});
  }
  SECTION("an answer after time-outs resets the backoff for the next message") {
    s.start_message();
    (void)s.next_wait();
    s.on_answer(5ms);
    s.start_message();
    for (int i = 0; i < 5; ++i) {
      (void)s.next_wait();
      s.on_timeout();
    }
    s.on_answer(5ms);
    s.start_message();
    CHECK(s.next_wait() == 2000ms);
  }
  SECTION("RTT smoothing: srtt += d/8, rttvar += (|d| - rttvar)/4, RTO clamped to [2, 30] s") {
    s.start_message();
    (void)s.next_wait();
    s.on_answer(4000ms);                // srtt 500, rttvar 500 + (4000-500)/4 = 1375 -> RTO 6000
    CHECK(s.rto() == 6000ms);
    s.on_answer(60000ms);               // huge RTT: clamped
    CHECK(s.rto() == 30000ms);
    RetransmitSchedule quick;
    quick.on_answer(1ms);
    CHECK(quick.rto() == 2000ms);       // never below 2 s
  }
}

TEST_CASE("transport and version order", "[tspc][rudp][version]") {
  SECTION("v6anyv4: UDP 2.0.2 > 2.0.1 > 2.0.0, then 1.0.1 over TCP, then nothing") {
    VersionFallback plan(TunnelMode::V6AnyV4, false, "2.0.2");
    Attempt a = plan.first();
    CHECK(a == Attempt{true, 0});
    CHECK(a.version() == "2.0.2");
    a = *plan.after_version_refused(a);
    CHECK(a == Attempt{true, 1});
    a = *plan.after_version_refused(a);
    CHECK(a == Attempt{true, 2});
    a = *plan.after_version_refused(a);
    CHECK(a == Attempt{false, 3});
    CHECK(a.version() == "1.0.1");
    CHECK_FALSE(plan.after_version_refused(a));
  }
  SECTION("no answer on UDP moves to TCP at the same version; TCP has no fallback") {
    VersionFallback plan(TunnelMode::V6V4, false, "2.0.2");
    const Attempt tcp = *plan.after_no_answer(plan.first());
    CHECK(tcp == Attempt{false, 0});
    CHECK_FALSE(plan.after_no_answer(tcp));
    CHECK(*plan.after_version_refused(tcp) == Attempt{false, 1});
  }
  SECTION("boot mode and v6udpv4 never leave UDP") {
    CHECK_FALSE(VersionFallback(TunnelMode::V6AnyV4, true, "2.0.2").after_no_answer(Attempt{true, 0}));
    VersionFallback udp(TunnelMode::V6UdpV4, false, "2.0.2");
    CHECK_FALSE(udp.after_no_answer(udp.first()));
    CHECK_FALSE(udp.after_version_refused(Attempt{true, 2}));  // never below 2.0.0
  }
  SECTION("tsp_version picks the first version") {
    CHECK(VersionFallback(TunnelMode::V6AnyV4, false, "2.0.0").first() == Attempt{true, 2});
    CHECK(VersionFallback(TunnelMode::V6AnyV4, false, "1.0.1").first() == Attempt{false, 3});
    CHECK(VersionFallback(TunnelMode::V6UdpV4, false, "1.0.1").first() == Attempt{true, 2});
    CHECK(VersionFallback(TunnelMode::V6AnyV4, false, "9.9").first() == Attempt{true, 0});
  }
}

TEST_CASE("retry delay doubles every 3 failures up to retry_delay_max", "[tspc][retry]") {
  RetryPolicy r(30, 300);
  std::vector<long> delays;
  for (int i = 0; i < 12; ++i) delays.push_back(static_cast<long>(r.next_delay().count()));
  CHECK(delays == std::vector<long>{30, 30, 30, 60, 60, 60, 120, 120, 120, 240, 240, 240});
  CHECK(r.next_delay() == 300s);
  r.reset();
  CHECK(r.next_delay() == 30s);
  RetryPolicy zero(0, 300);
  CHECK(zero.next_delay() == 0s);
  RetryPolicy max_below(60, 10);  // a max below the delay does not shorten it
  CHECK(max_below.next_delay() == 60s);
  RetryPolicy big(3600, 3600);
  for (int i = 0; i < 100; ++i) CHECK(big.next_delay() == 3600s);
}
