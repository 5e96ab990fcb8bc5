// How record fields look in the database, and reading them back with validation: a row
// edited by hand into nonsense becomes a StoreError naming the row and field, never UB.
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/store/records.hpp"
#include "control/store/sqlite_db.hpp"

namespace tsp::store::sqlite {

// "v6v4" / "v6udpv4"; empty for a value outside the enum.
std::string_view mode_text(TunnelModeRec mode);

// Reads the columns of the current row left to right.
class RowReader {
 public:
  explicit RowReader(const Query& q) : q_(q) {}
  // Prefixes error messages ("tunnel 7") once the row's key has been read.
  void name_row(std::string name) { row_name_ = std::move(name); }

  int64_t integer() { return q_.column_int(col_++); }
  std::string text() { return q_.column_text(col_++); }
  bool flag(std::string_view field);
  template <std::unsigned_integral T>
  T unsigned_int(std::string_view field);
  std::vector<uint8_t> blob();
  template <size_t N>
  std::array<uint8_t, N> fixed_blob(std::string_view field);
  Ipv4Addr ipv4(std::string_view field);
  std::vector<Ipv4Addr> ipv4_list(std::string_view field);  // dotted quads separated by spaces
  Ipv6Addr ipv6(std::string_view field);
  Ipv6Prefix prefix(std::string_view field);
  std::optional<Ipv6Prefix> optional_prefix(std::string_view field);  // NULL -> nullopt
  TunnelModeRec mode(std::string_view field);

 private:
  [[noreturn]] void invalid(std::string_view field, std::string_view value) const;

  const Query& q_;
  int col_ = 0;
  std::string row_name_;
};

template <std::unsigned_integral T>
T RowReader::unsigned_int(std::string_view field) {
  const int64_t v = integer();
  if (v < 0 || static_cast<uint64_t>(v) > std::numeric_limits<T>::max()) invalid(field, std::to_string(v));
  return static_cast<T>(v);
}

template <size_t N>
std::array<uint8_t, N> RowReader::fixed_blob(std::string_view field) {
  const auto bytes = q_.column_blob(col_++);
  if (bytes.size() != N) invalid(field, std::to_string(bytes.size()) + " bytes");
  std::array<uint8_t, N> out{};
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

}  // namespace tsp::store::sqlite
