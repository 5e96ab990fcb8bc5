// The worker's path (process_burst: staged, bulk lookups, a per-burst neighbor memo) must do
// exactly what the reference path (process_packet, which the other pipeline tests check in
// detail) does: every kind of frame, in random orders and burst sizes, both ports.
#include <catch2/catch.hpp>

#include <random>

#include "tests/unit/dp_burst_equivalence.hpp"

using namespace tsp::dp;
using namespace tsp::dp::test;

TEST_CASE("burst: each catalog frame alone and the whole catalog in order agree with process_packet",
          "[dp][burst]") {
  const std::vector<ArrivingFrame> catalog = frame_catalog();
  REQUIRE(catalog.size() > 100);
  for (const bool gateways : {true, false}) {
    INFO("gateways known: " << gateways);
    for (size_t i = 0; i < catalog.size(); ++i) {
      INFO("catalog frame " << i);
      CHECK(burst_vs_single({catalog[i]}, {1}, gateways).empty());
    }
    CHECK(burst_vs_single(catalog, {32}, gateways) == "");
    CHECK(burst_vs_single(catalog, {7, 1, 32, 3}, gateways) == "");
    // The exception policer spends its budgets on the same frames in both paths.
    CHECK(burst_vs_single(catalog, {32}, gateways, true) == "");
    CHECK(burst_vs_single(catalog, {7, 1, 32, 3}, gateways, true) == "");
  }
}

TEST_CASE("burst: random mixes of the catalog in random burst sizes agree with process_packet", "[dp][burst]") {
  const std::vector<ArrivingFrame> catalog = frame_catalog();
  std::mt19937 rng(424242);
  for (int round = 0; round < 40; ++round) {
    std::vector<ArrivingFrame> frames;
    const size_t count = 50 + rng() % 150;
    // Mostly one port at a time, as a worker polls them: runs of frames from one side.
    Side side = rng() % 2 ? Side::Ipv4 : Side::Ipv6;
    while (frames.size() < count) {
      if (rng() % 20 == 0) side = side == Side::Ipv4 ? Side::Ipv6 : Side::Ipv4;
      const ArrivingFrame& f = catalog[rng() % catalog.size()];
      if (f.side == side) frames.push_back(f);
    }
    std::vector<unsigned> sizes;
    for (int k = 0; k < 8; ++k) sizes.push_back(1 + rng() % 40);  // above kMaxBurst too: chunked
    const std::string difference = burst_vs_single(frames, sizes, rng() % 4 != 0, round % 2 == 1);
    INFO("round " << round);
    CHECK(difference == "");
  }
}
