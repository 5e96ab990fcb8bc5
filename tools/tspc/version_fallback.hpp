// The order in which tspc tries transports and protocol versions (tsp-protocol.md §1.5, §1.6),
// as a small state machine the connection code asks and the tests walk:
//  * versions newest first from tsp_version: 2.0.2, 2.0.1, 2.0.0, 1.0.1; each 302 answer
//    means a new socket with the next older version (after 5 s on UDP);
//  * RUDP first; no answer there moves to TCP at once (not in boot mode, not for v6udpv4,
//    whose data must share the UDP socket);
//  * 1.0.1 is only tried over TCP, and never in v6udpv4 mode (which needs 2.0.0 or newer).
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include "tools/tspc/settings/tspc_config.hpp"

namespace tsp::tspc {

inline constexpr std::array<std::string_view, 4> kTspVersions = {"2.0.2", "2.0.1", "2.0.0", "1.0.1"};

struct Attempt {
  bool udp = true;
  size_t version_index = 0;  // into kTspVersions
  std::string_view version() const { return kTspVersions[version_index]; }
  friend bool operator==(const Attempt&, const Attempt&) = default;
};

class VersionFallback {
 public:
  // `first_version` is cfg.tsp_version (an unknown value starts at 2.0.2).
  VersionFallback(TunnelMode mode, bool boot_mode, std::string_view first_version);

  Attempt first() const;
  // The broker answered 302 to `current`: the next attempt, or nullopt (no version left).
  std::optional<Attempt> after_version_refused(const Attempt& current) const;
  // Nothing answered `current` (or it refused the connection): the next attempt, or nullopt.
  std::optional<Attempt> after_no_answer(const Attempt& current) const;

 private:
  TunnelMode mode_;
  bool boot_;
  size_t first_index_ = 0;
};

}  // namespace tsp::tspc
