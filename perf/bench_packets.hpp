// The prebuilt frames of a scenario: a ring of templates, each a valid frame toward a random
// tunnel of the scenario's mode (uniform or Zipf), which the pipeline forwards (no drop, no exception, no
// ICMPv6 error).
#pragma once

#include <cstdint>
#include <vector>

#include "perf/bench_world.hpp"
#include "perf/scenario.hpp"
#include "perf/tunnel_picker.hpp"

namespace tsp::perf {

// Frames of one length, each in its own cache-line-aligned slot.
class TemplateRing {
 public:
  TemplateRing(uint32_t count, uint32_t frame_len);

  uint32_t size() const noexcept { return count_; }
  uint32_t frame_len() const noexcept { return frame_len_; }
  const uint8_t* frame(uint32_t index) const noexcept { return slots_[index * lines_per_slot_].bytes; }
  // Throws std::invalid_argument if the frame's length is not the ring's or index is out of range.
  void set(uint32_t index, const std::vector<uint8_t>& frame);

 private:
  struct alignas(64) Line {
    uint8_t bytes[64];
  };
  uint32_t count_, frame_len_, lines_per_slot_;
  std::vector<Line> slots_;
};

// `count` frames of scenario `s` toward tunnels of `world` drawn from `d` (tunnel_picker.hpp),
// inner UDP payload of `payload` bytes. Reproducible from `seed`.
TemplateRing build_templates(Scenario s, const BenchWorld& world, Distribution d, double zipf_s, uint32_t count,
                             uint32_t payload, uint64_t seed);

}  // namespace tsp::perf
