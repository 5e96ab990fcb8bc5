#include "tools/tspctl/table.hpp"

#include <algorithm>
#include <stdexcept>

namespace tsp::tspctl {

namespace {

// Display width: UTF-8 continuation bytes take no column.
size_t width(const std::string& s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xc0) != 0x80; }));
}

void trim_right(std::string& line) {
  while (!line.empty() && line.back() == ' ') line.pop_back();
}

}  // namespace

Table::Table(std::vector<Column> columns) : columns_(std::move(columns)) {}

void Table::add_row(std::vector<std::string> cells) {
  if (cells.size() > columns_.size()) throw std::invalid_argument("table row has more cells than columns");
  cells.resize(columns_.size());
  rows_.push_back(std::move(cells));
}

std::string Table::render() const {
  std::vector<size_t> widths(columns_.size());
  for (size_t c = 0; c < columns_.size(); ++c) widths[c] = width(columns_[c].title);
  for (const auto& row : rows_)
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], width(row[c]));
  size_t line_width = columns_.size();
  for (size_t w : widths) line_width += w;

  std::string out;
  out.reserve((rows_.size() + 1) * (line_width + 1));
  std::string line;
  auto emit = [&](auto cell_of) {
    line.clear();
    for (size_t c = 0; c < columns_.size(); ++c) {
      const std::string& cell = cell_of(c);
      const size_t pad = widths[c] - width(cell);
      if (c > 0) line += "  ";
      if (columns_[c].align == Align::Right) line.append(pad, ' ');
      line += cell;
      if (columns_[c].align == Align::Left) line.append(pad, ' ');
    }
    trim_right(line);
    out += line;
    out += '\n';
  };
  emit([&](size_t c) -> const std::string& { return columns_[c].title; });
  for (const auto& row : rows_) emit([&](size_t c) -> const std::string& { return row[c]; });
  return out;
}

void KeyValues::add(std::string key, std::string value) { lines_.emplace_back(std::move(key), std::move(value)); }

std::string KeyValues::render() const {
  size_t w = 0;
  for (const auto& [k, v] : lines_) w = std::max(w, width(k));
  std::string out;
  for (const auto& [k, v] : lines_) {
    out += k;
    out += ':';
    out.append(w - width(k) + 1, ' ');
    out += v;
    trim_right(out);
    out += '\n';
  }
  return out;
}

}  // namespace tsp::tspctl
