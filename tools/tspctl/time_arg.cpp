#include "tools/tspctl/time_arg.hpp"

#include <chrono>

#include "control/admin/admin_protocol.hpp"

namespace tsp::tspctl {

namespace {

// The digits of text[pos, pos + n) as a number; nullopt if any is not a digit.
std::optional<int64_t> digits(std::string_view text, size_t pos, size_t n) {
  int64_t value = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

}  // namespace

std::optional<int64_t> parse_time(std::string_view text) {
  int64_t seconds = -1;
  if (!text.empty() && text.size() <= 12 && digits(text, 0, text.size())) {
    seconds = *digits(text, 0, text.size());
  } else {
    // YYYY-MM-DDTHH:MM:SSZ or YYYY-MM-DD HH:MM:SS: no offsets, no local time.
    const bool iso = text.size() == 20 && text[10] == 'T' && text[19] == 'Z';
    const bool spaced = text.size() == 19 && text[10] == ' ';
    if (!iso && !spaced) return std::nullopt;
    if (text[4] != '-' || text[7] != '-' || text[13] != ':' || text[16] != ':') return std::nullopt;
    const auto y = digits(text, 0, 4), mo = digits(text, 5, 2), d = digits(text, 8, 2);
    const auto h = digits(text, 11, 2), mi = digits(text, 14, 2), s = digits(text, 17, 2);
    if (!y || !mo || !d || !h || !mi || !s || *h > 23 || *mi > 59 || *s > 59) return std::nullopt;
    using namespace std::chrono;
    const year_month_day date{year{static_cast<int>(*y)}, month{static_cast<unsigned>(*mo)},
                              day{static_cast<unsigned>(*d)}};
    if (!date.ok()) return std::nullopt;  // 2026-02-30, month 13
    seconds = int64_t{sys_days(date).time_since_epoch().count()} * 86400 + *h * 3600 + *mi * 60 + *s;
  }
  if (seconds < 0 || seconds > admin::kMaxHistoryTime) return std::nullopt;
  return seconds;
}

}  // namespace tsp::tspctl
