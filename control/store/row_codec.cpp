#include "control/store/row_codec.hpp"

#include <algorithm>

#include "control/store/store.hpp"

namespace tsp::store::sqlite {

std::string_view mode_text(TunnelModeRec mode) {
  switch (mode) {
    case TunnelModeRec::V6V4: return "v6v4";
    case TunnelModeRec::V6UDPV4: return "v6udpv4";
  }
  return {};
}

void RowReader::invalid(std::string_view field, std::string_view value) const {
  std::string what = row_name_.empty() ? std::string() : row_name_ + ": ";
  what += "stored " + std::string(field) + " is invalid: '" + std::string(value) + "'";
  q_.fail(what);
}

bool RowReader::flag(std::string_view field) {
  const int64_t v = integer();
  if (v != 0 && v != 1) invalid(field, std::to_string(v));
  return v == 1;
}

std::vector<uint8_t> RowReader::blob() {
  const auto bytes = q_.column_blob(col_++);
  return {bytes.begin(), bytes.end()};
}

Ipv4Addr RowReader::ipv4(std::string_view field) {
  const std::string t = text();
  const auto addr = Ipv4Addr::parse(t);
  if (!addr) invalid(field, t);
  return *addr;
}

std::vector<Ipv4Addr> RowReader::ipv4_list(std::string_view field) {
  const std::string t = text();
  std::vector<Ipv4Addr> out;
  size_t at = 0;
  while (at < t.size()) {
    const size_t end = std::min(t.find(' ', at), t.size());
    const auto addr = Ipv4Addr::parse(std::string_view(t).substr(at, end - at));
    if (!addr) invalid(field, t);
    out.push_back(*addr);
    at = end + 1;
  }
  return out;
}

Ipv6Addr RowReader::ipv6(std::string_view field) {
  const std::string t = text();
  const auto addr = Ipv6Addr::parse(t);
  if (!addr) invalid(field, t);
  return *addr;
}

Ipv6Prefix RowReader::prefix(std::string_view field) {
  const std::string t = text();
  const auto p = Ipv6Prefix::parse(t);
  if (!p) invalid(field, t);
  return *p;
}

std::optional<Ipv6Prefix> RowReader::optional_prefix(std::string_view field) {
  if (q_.column_is_null(col_)) {
    ++col_;
    return std::nullopt;
  }
  return prefix(field);
}

TunnelModeRec RowReader::mode(std::string_view field) {
  const std::string t = text();
  if (t == "v6v4") return TunnelModeRec::V6V4;
  if (t == "v6udpv4") return TunnelModeRec::V6UDPV4;
  invalid(field, t);
}

}  // namespace tsp::store::sqlite
