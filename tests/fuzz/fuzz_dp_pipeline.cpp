// Fuzz target: arbitrary frames on both ports through the dataplane pipeline. Nothing may
// crash or read out of bounds (the fuzz build is sanitized), and process_burst must agree with
// process_packet on every frame. Input: [burst size][side:1 bit | length:15 bits, big-endian]
// [frame] ... (lengths cut to what is left).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tests/unit/dp_burst_equivalence.hpp"

using namespace tsp::dp;
using namespace tsp::dp::test;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const unsigned burst = 1 + data[0] % 40;
  std::vector<ArrivingFrame> frames;
  size_t at = 1;
  while (at + 2 <= size && frames.size() < 64) {
    const unsigned word = (data[at] << 8) | data[at + 1];
    at += 2;
    const size_t len = std::min<size_t>(word & 0x7FFF, std::min<size_t>(size - at, 1600));
    frames.push_back({(word & 0x8000) ? Side::Ipv6 : Side::Ipv4, Bytes(data + at, data + at + len)});
    at += len;
  }
  const std::string difference = burst_vs_single(frames, {burst}, data[0] & 0x80, data[0] & 0x40);
  if (!difference.empty()) {
    std::fprintf(stderr, "fuzz_dp_pipeline: process_burst and process_packet disagree: %s\n", difference.c_str());
    std::abort();
  }
  return 0;
}
