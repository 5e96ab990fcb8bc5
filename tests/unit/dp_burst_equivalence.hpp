// process_burst (the worker's path) against process_packet (the reference), on any sequence of
// frames: the same verdicts, bytes of every frame sent, extra packets and counters. Shared by the
// unit test (a catalog of frames in random bursts) and the fuzz target (arbitrary frames).
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <rte_mbuf.h>

#include "tests/unit/dp_test_support.hpp"

namespace tsp::dp::test {

struct ArrivingFrame {
  Side side = Side::Ipv4;
  Bytes bytes;
  uint64_t ol_flags = 0;  // as a NIC would set them (checksum verdicts)
  uint16_t headroom = RTE_PKTMBUF_HEADROOM;  // free bytes in front of the frame in its mbuf
  uint16_t tail_segment = 0;  // bytes of the frame's end in a second segment of their own
};

// Runs `frames` through a fresh PipelineHarness one by one (process_packet), then through
// another fresh one in bursts (process_burst; a burst ends at `burst_sizes[k]` frames, cycling
// through the sizes, or where the arrival side changes). With `learn_gateways` both harnesses
// know the gateways' MACs from the start. Returns "" when everything agrees, else what
// differed first.
// With `policed`, both harnesses police the exception path with small budgets that never refill
// (each class lets a few frames through, then drops the rest): the two paths must spend them on
// the same frames.
std::string burst_vs_single(const std::vector<ArrivingFrame>& frames, const std::vector<unsigned>& burst_sizes,
                            bool learn_gateways, bool policed = false);

// Frames of every kind the pipeline tells apart, both ports: tunnel data of each test tunnel
// (its /128 and its prefix), keepalives, spoofed sources, loops, hop limit 1, too big, for the
// broker, link-local and multicast, fragments, bad checksums, ARP, neighbor discovery, other
// ethertypes, truncations; and the edges of the burst path's one-look recognition of tunnel
// data (decap_fast.hpp): flags, lengths, padding, NIC checksum verdicts.
std::vector<ArrivingFrame> frame_catalog();

}  // namespace tsp::dp::test
