// The grammar as data: each context (top level, or one kind of block) is a table of
// statement patterns, leading keywords then arguments, with a handler each. Adding a
// statement to the language is adding a row.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tsp::config {

struct ParseState;  // what the handlers fill in (parse_state.hpp)

struct StatementCall {
  std::span<const std::string_view> args;  // the tokens after the keywords
  int line = 0;
};

using StatementHandler = void (*)(ParseState&, const StatementCall&);

struct Statement {
  std::vector<std::string_view> keywords;  // lowercase; matched case-insensitively
  std::string_view usage;                  // the arguments, for messages: "NAME PREFIX LEN"
  size_t min_args = 0;
  size_t max_args = 0;
  bool repeatable = false;  // may appear more than once in the same block
  StatementHandler handler = nullptr;
};

struct StatementTable {
  std::string_view context;  // "top level", "tsp block", ...
  std::vector<Statement> statements;
};

// The statement whose keywords start `tokens` (the longest such), or nullptr.
const Statement* find_statement(const StatementTable& table, std::span<const std::string_view> tokens);
// "transport udp PORT": how the statement is written.
std::string statement_syntax(const Statement& statement);
// "transport udp": the statement's keywords.
std::string statement_name(const Statement& statement);
// Why `tokens` match nothing in `table`, with what would have matched.
std::string unknown_statement_reason(const StatementTable& table, std::span<const std::string_view> tokens);
// Empty when the argument count fits, else why not.
std::string argument_count_problem(const Statement& statement, std::span<const std::string_view> args);

}  // namespace tsp::config
