#include "tools/tspc/version_fallback.hpp"

namespace tsp::tspc {
namespace {

constexpr size_t kLegacyIndex = 3;  // 1.0.1: TCP only, no accept

}  // namespace

VersionFallback::VersionFallback(TunnelMode mode, bool boot_mode, std::string_view first_version)
    : mode_(mode), boot_(boot_mode) {
  for (size_t i = 0; i < kTspVersions.size(); ++i)
    if (kTspVersions[i] == first_version) first_index_ = i;
  if (mode_ == TunnelMode::V6UdpV4 && first_index_ >= kLegacyIndex) first_index_ = kLegacyIndex - 1;
}

Attempt VersionFallback::first() const {
  // A configured 1.0.1 cannot go over UDP: start on TCP then (not possible for v6udpv4).
  return Attempt{first_index_ < kLegacyIndex, first_index_};
}

std::optional<Attempt> VersionFallback::after_version_refused(const Attempt& current) const {
  const size_t next = current.version_index + 1;
  if (next >= kTspVersions.size()) return std::nullopt;
  if (next >= kLegacyIndex) {
    if (mode_ == TunnelMode::V6UdpV4) return std::nullopt;
    return Attempt{false, next};  // gogoc switches to TCP for 1.0.1
  }
  return Attempt{current.udp, next};
}

std::optional<Attempt> VersionFallback::after_no_answer(const Attempt& current) const {
  if (!current.udp || boot_ || mode_ == TunnelMode::V6UdpV4) return std::nullopt;
  return Attempt{false, current.version_index};
}

}  // namespace tsp::tspc
