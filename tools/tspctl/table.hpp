// Aligned text tables for tspctl: a header row, columns as wide as their widest cell,
// numbers right-aligned.
#pragma once

#include <string>
#include <vector>

namespace tsp::tspctl {

class Table {
 public:
  enum class Align { Left, Right };
  struct Column {
    std::string title;
    Align align = Align::Left;
  };

  explicit Table(std::vector<Column> columns);
  // Missing cells are blank; extra cells are an error (std::invalid_argument).
  void add_row(std::vector<std::string> cells);
  size_t rows() const { return rows_.size(); }
  // Every line ends in '\n'; trailing blanks are trimmed.
  std::string render() const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// "name: value" lines with the values aligned.
class KeyValues {
 public:
  void add(std::string key, std::string value);
  std::string render() const;

 private:
  std::vector<std::pair<std::string, std::string>> lines_;
};

}  // namespace tsp::tspctl
