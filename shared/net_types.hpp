// Address and prefix value types shared by the control plane and the dataplane.
// Host byte order for IPv4 (uint32_t), network byte order for IPv6 (16 bytes).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace tsp {

struct Ipv4Addr {
  uint32_t value = 0;  // host byte order

  static std::optional<Ipv4Addr> parse(std::string_view text);
  std::string to_string() const;
  friend bool operator==(Ipv4Addr, Ipv4Addr) = default;
};

struct Ipv6Addr {
  std::array<uint8_t, 16> bytes{};

  static std::optional<Ipv6Addr> parse(std::string_view text);
  // RFC 5952 compressed text ("2001:db8::1").
  std::string to_string() const;
  // Eight groups of four hex digits, as legacy TSP clients need in offers
  // ("2001:0db8:0000:0000:0000:0000:0000:0001").
  std::string to_expanded_string() const;
  // Keeps the first `len` bits, zeroes the rest.
  Ipv6Addr masked(unsigned len) const;
  bool is_unspecified() const;
  friend bool operator==(const Ipv6Addr&, const Ipv6Addr&) = default;
  friend auto operator<=>(const Ipv6Addr&, const Ipv6Addr&) = default;
};

struct Ipv6Prefix {
  Ipv6Addr addr;  // always masked to len
  uint8_t len = 0;

  // "2001:db8::/48". Host bits set in the text are an error (nullopt).
  static std::optional<Ipv6Prefix> parse(std::string_view text);
  std::string to_string() const;
  bool contains(const Ipv6Addr& a) const;
  bool contains(const Ipv6Prefix& p) const;
  friend bool operator==(const Ipv6Prefix&, const Ipv6Prefix&) = default;
};

// The n-th block of length `sub_len` inside `outer` (n counts from 0).
// Requires outer.len <= sub_len <= 128 and n < 2^(sub_len - outer.len).
Ipv6Prefix nth_subprefix(const Ipv6Prefix& outer, unsigned sub_len, uint64_t n);
// Inverse of nth_subprefix: the index of `inner` inside `outer` at inner.len.
uint64_t subprefix_index(const Ipv6Prefix& outer, const Ipv6Prefix& inner);

}  // namespace tsp

template <>
struct std::hash<tsp::Ipv6Addr> {
  size_t operator()(const tsp::Ipv6Addr& a) const noexcept;
};
