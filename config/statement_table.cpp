#include "config/statement_table.hpp"

#include <algorithm>

#include "config/config_values.hpp"

namespace tsp::config {

namespace {

// How many of the statement's leading keywords the tokens match.
size_t matched_keywords(const Statement& statement, std::span<const std::string_view> tokens) {
  size_t n = 0;
  while (n < statement.keywords.size() && n < tokens.size() &&
         keyword_equals(tokens[n], statement.keywords[n])) {
    ++n;
  }
  return n;
}

std::string join(const std::vector<std::string>& words, std::string_view last_separator) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += (i + 1 == words.size()) ? last_separator : ", ";
    out += words[i];
  }
  return out;
}

std::string tokens_text(std::span<const std::string_view> tokens) {
  std::string out;
  for (auto t : tokens) {
    if (!out.empty()) out += ' ';
    out += t;
  }
  return out;
}

}  // namespace

const Statement* find_statement(const StatementTable& table, std::span<const std::string_view> tokens) {
  const Statement* best = nullptr;
  for (const auto& statement : table.statements) {
    const bool full = matched_keywords(statement, tokens) == statement.keywords.size();
    if (full && (!best || statement.keywords.size() > best->keywords.size())) best = &statement;
  }
  return best;
}

std::string statement_name(const Statement& statement) {
  std::string out;
  for (auto k : statement.keywords) {
    if (!out.empty()) out += ' ';
    out += k;
  }
  return out;
}

std::string statement_syntax(const Statement& statement) {
  std::string out = statement_name(statement);
  if (!statement.usage.empty()) out += ' ' + std::string(statement.usage);
  return out;
}

std::string unknown_statement_reason(const StatementTable& table, std::span<const std::string_view> tokens) {
  size_t depth = 0;
  for (const auto& statement : table.statements) depth = std::max(depth, matched_keywords(statement, tokens));

  if (depth == 0) {
    std::vector<std::string> known;
    for (const auto& statement : table.statements) known.push_back("'" + statement_name(statement) + "'");
    return "unknown statement " + quote(tokens.front()) + " (the " + std::string(table.context) +
           " accepts " + join(known, " and ") + ")";
  }
  // Some keywords matched: say which words may follow them.
  std::vector<std::string> next;
  for (const auto& statement : table.statements) {
    if (matched_keywords(statement, tokens) != depth || statement.keywords.size() <= depth) continue;
    std::string word(statement.keywords[depth]);
    if (std::find(next.begin(), next.end(), word) == next.end()) next.push_back(word);
  }
  const std::string known = tokens_text(tokens.first(depth));
  if (tokens.size() == depth) {
    return "incomplete statement " + quote(known) + ": " + join(next, " or ") + " must follow";
  }
  return "unknown statement " + quote(tokens_text(tokens.first(depth + 1))) + ": after " +
         quote(known) + " comes " + join(next, " or ");
}

std::string argument_count_problem(const Statement& statement, std::span<const std::string_view> args) {
  const std::string usage = " (usage: '" + statement_syntax(statement) + "')";
  if (args.size() < statement.min_args) {
    return "missing argument for '" + statement_name(statement) + "'" + usage;
  }
  if (args.size() > statement.max_args) {
    const auto extra = args[statement.max_args];
    if (extra.front() == '#' || extra.front() == '!') {
      return "too many arguments for '" + statement_name(statement) +
             "': comments must be on a line of their own" + usage;
    }
    return "too many arguments for '" + statement_name(statement) + "': unexpected " +
           quote(extra) + usage;
  }
  return {};
}

}  // namespace tsp::config
