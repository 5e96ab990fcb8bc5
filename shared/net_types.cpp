#include "shared/net_types.hpp"

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>

namespace tsp {

std::optional<Ipv4Addr> Ipv4Addr::parse(std::string_view text) {
  if (text.empty() || text.size() > 15) return std::nullopt;
  char buf[16];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  in_addr a{};
  if (inet_pton(AF_INET, buf, &a) != 1) return std::nullopt;
  return Ipv4Addr{ntohl(a.s_addr)};
}

// The text forms are written by hand, exactly as glibc's inet_ntop writes them: inet_ntop
// formats each part with sprintf, and a TSP session writes a dozen addresses (offer, store,
// log) on the broker's session threads.
namespace {

char* put_decimal_octet(char* out, unsigned v) {
  if (v >= 100) *out++ = static_cast<char>('0' + v / 100);
  if (v >= 10) *out++ = static_cast<char>('0' + v / 10 % 10);
  *out++ = static_cast<char>('0' + v % 10);
  return out;
}

char* put_dotted_quad(char* out, const uint8_t* b) {
  for (int i = 0; i < 4; ++i) {
    if (i) *out++ = '.';
    out = put_decimal_octet(out, b[i]);
  }
  return out;
}

char* put_hex_word(char* out, unsigned w) {
  static constexpr char kDigits[] = "0123456789abcdef";
  bool started = false;
  for (int shift = 12; shift >= 0; shift -= 4) {
    const unsigned d = (w >> shift) & 0xF;
    if (d || started || shift == 0) {
      *out++ = kDigits[d];
      started = true;
    }
  }
  return out;
}

}  // namespace

std::string Ipv4Addr::to_string() const {
  const uint8_t b[4] = {static_cast<uint8_t>(value >> 24), static_cast<uint8_t>(value >> 16),
                        static_cast<uint8_t>(value >> 8), static_cast<uint8_t>(value)};
  char buf[16];
  return std::string(buf, put_dotted_quad(buf, b));
}

std::optional<Ipv6Addr> Ipv6Addr::parse(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  Ipv6Addr out;
  if (inet_pton(AF_INET6, buf, out.bytes.data()) != 1) return std::nullopt;
  return out;
}

// inet_ntop's rules: the longest run of two or more zero words (the first of equal runs)
// becomes "::"; an IPv4-compatible or IPv4-mapped address ends in a dotted quad.
std::string Ipv6Addr::to_string() const {
  unsigned words[8];
  for (int i = 0; i < 8; ++i) words[i] = unsigned{bytes[2 * i]} << 8 | bytes[2 * i + 1];
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (words[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && words[j] == 0) ++j;
    if (j - i > best_len) best = i, best_len = j - i;
    i = j;
  }
  if (best_len < 2) best = -1;
  char buf[INET6_ADDRSTRLEN];
  char* out = buf;
  for (int i = 0; i < 8; ++i) {
    if (best >= 0 && i >= best && i < best + best_len) {
      if (i == best) *out++ = ':';
      continue;
    }
    if (i) *out++ = ':';
    if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && words[5] == 0xFFFF))) {
      out = put_dotted_quad(out, bytes.data() + 12);
      break;
    }
    out = put_hex_word(out, words[i]);
  }
  if (best >= 0 && best + best_len == 8) *out++ = ':';
  return std::string(buf, out);
}

std::string Ipv6Addr::to_expanded_string() const {
  char buf[40];
  for (int g = 0; g < 8; ++g) {
    std::snprintf(buf + g * 5, 6, "%02x%02x%s", bytes[2 * g], bytes[2 * g + 1], g < 7 ? ":" : "");
  }
  return std::string(buf, 39);
}

Ipv6Addr Ipv6Addr::masked(unsigned len) const {
  Ipv6Addr out = *this;
  for (unsigned i = 0; i < 16; ++i) {
    const unsigned bit = i * 8;
    if (bit >= len) {
      out.bytes[i] = 0;
    } else if (len - bit < 8) {
      out.bytes[i] &= static_cast<uint8_t>(0xff00u >> (len - bit));
    }
  }
  return out;
}

bool Ipv6Addr::is_unspecified() const {
  for (auto b : bytes)
    if (b) return false;
  return true;
}

std::optional<Ipv6Prefix> Ipv6Prefix::parse(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto addr = Ipv6Addr::parse(text.substr(0, slash));
  const auto len_text = text.substr(slash + 1);
  if (!addr || len_text.empty() || len_text.size() > 3) return std::nullopt;
  unsigned len = 0;
  for (char c : len_text) {
    if (c < '0' || c > '9') return std::nullopt;
    len = len * 10 + static_cast<unsigned>(c - '0');
  }
  if (len > 128) return std::nullopt;
  if (addr->masked(len) != *addr) return std::nullopt;
  return Ipv6Prefix{*addr, static_cast<uint8_t>(len)};
}

std::string Ipv6Prefix::to_string() const { return addr.to_string() + "/" + std::to_string(len); }

bool Ipv6Prefix::contains(const Ipv6Addr& a) const { return a.masked(len) == addr; }

bool Ipv6Prefix::contains(const Ipv6Prefix& p) const { return p.len >= len && contains(p.addr); }

// Treats the address as a 128-bit big-endian integer split into two halves.
static void to_halves(const Ipv6Addr& a, uint64_t& hi, uint64_t& lo) {
  hi = lo = 0;
  for (int i = 0; i < 8; ++i) hi = (hi << 8) | a.bytes[i];
  for (int i = 8; i < 16; ++i) lo = (lo << 8) | a.bytes[i];
}

static Ipv6Addr from_halves(uint64_t hi, uint64_t lo) {
  Ipv6Addr a;
  for (int i = 7; i >= 0; --i, hi >>= 8) a.bytes[i] = static_cast<uint8_t>(hi);
  for (int i = 15; i >= 8; --i, lo >>= 8) a.bytes[i] = static_cast<uint8_t>(lo);
  return a;
}

Ipv6Prefix nth_subprefix(const Ipv6Prefix& outer, unsigned sub_len, uint64_t n) {
  uint64_t hi, lo;
  to_halves(outer.addr, hi, lo);
  const unsigned shift = 128 - sub_len;  // position of the block index's lowest bit
  if (shift >= 64) {
    hi |= n << (shift - 64);
  } else {
    lo |= n << shift;
    if (shift > 0) hi |= n >> (64 - shift);
  }
  return Ipv6Prefix{from_halves(hi, lo).masked(sub_len), static_cast<uint8_t>(sub_len)};
}

uint64_t subprefix_index(const Ipv6Prefix& outer, const Ipv6Prefix& inner) {
  uint64_t hi, lo, ohi, olo;
  to_halves(inner.addr.masked(inner.len), hi, lo);
  to_halves(outer.addr, ohi, olo);
  hi -= ohi;  // outer bits are equal in both, so this clears them
  lo -= olo;
  const unsigned shift = 128 - inner.len;
  if (shift >= 64) return hi >> (shift - 64);
  if (shift == 0) return lo;
  return (lo >> shift) | (hi << (64 - shift));
}

}  // namespace tsp

size_t std::hash<tsp::Ipv6Addr>::operator()(const tsp::Ipv6Addr& a) const noexcept {
  uint64_t x, y;
  std::memcpy(&x, a.bytes.data(), 8);
  std::memcpy(&y, a.bytes.data() + 8, 8);
  x ^= y * 0x9e3779b97f4a7c15ull;
  x ^= x >> 29;
  return static_cast<size_t>(x * 0xbf58476d1ce4e5b9ull);
}
