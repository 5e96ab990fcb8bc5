// Reading a config file: each line is matched against the statement table of its context
// (top level, or the open block), checked, and handed to the statement's handler; the
// whole-file checks follow in config_validate.cpp.
#include "config/broker_config.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>

#include "config/config_grammar.hpp"
#include "config/config_lexer.hpp"
#include "config/config_validate.hpp"
#include "config/config_values.hpp"

namespace tsp::config {

namespace {

// A broker configuration is a few kilobytes; refuse what cannot be one before reading it.
constexpr size_t max_config_bytes = 16 * 1024 * 1024;

class Parser {
 public:
  explicit Parser(const std::string& file) { state_.file = file; }

  void line(const ConfigLine& line) {
    const std::span<const std::string_view> tokens(line.tokens);
    if (line.indented && state_.open_block == BlockKind::None) {
      fail(line.number, "indented line outside any block: only the lines under a 'tsp', "
                        "'tunnel server', 'tunnel broker' or 'dataplane' line may be indented");
    }
    // A line that is not indented ends the open block.
    if (!line.indented) close_block();

    const BlockKind context = state_.open_block;
    const StatementTable& table = block_statements(context);
    const Statement* statement = find_statement(table, tokens);
    if (!statement) fail(line.number, misplaced_statement_reason(context, tokens));

    const auto args = tokens.subspan(statement->keywords.size());
    if (auto problem = argument_count_problem(*statement, args); !problem.empty()) fail(line.number, problem);
    if (!statement->repeatable) {
      auto& seen = context == BlockKind::None ? top_level_seen_ : block_seen_;
      const auto [first, inserted] = seen.emplace(statement, line.number);
      if (!inserted) {
        fail(line.number, "'" + statement_name(*statement) + "' may appear only once" +
                              (context == BlockKind::None ? std::string() : " per block") + " (already at line " +
                              std::to_string(first->second) + ")");
      }
    }
    try {
      statement->handler(state_, StatementCall{args, line.number});
    } catch (const ValueError& e) {
      fail(line.number, e.what());
    }
    // The handler may have opened a block: its statements start afresh.
    if (state_.open_block != context) block_seen_.clear();
  }

  Config finish() { return finish_config(std::move(state_)); }

 private:
  [[noreturn]] void fail(int line, std::string reason) const { throw ConfigError(state_.file, line, std::move(reason)); }

  void close_block() { state_.open_block = BlockKind::None; }

  // Says where a statement belongs when another context knows it (wrong indentation is
  // the usual mistake), else what this context accepts.
  std::string misplaced_statement_reason(BlockKind context, std::span<const std::string_view> tokens) const {
    if (context != BlockKind::None) {
      if (const auto* s = find_statement(top_level_statements(), tokens)) {
        return "'" + statement_name(*s) + "' is a top-level statement: remove its indentation";
      }
    }
    const Statement* elsewhere = nullptr;
    std::string homes;
    for (auto kind : all_block_kinds) {
      if (kind == context) continue;
      if (const auto* s = find_statement(block_statements(kind), tokens)) {
        elsewhere = s;
        homes += (homes.empty() ? "'" : " or '") + std::string(block_keyword(kind)) + "'";
      }
    }
    if (!elsewhere) return unknown_statement_reason(block_statements(context), tokens);
    const std::string name = "'" + statement_name(*elsewhere) + "'";
    if (context == BlockKind::None) {
      return name + " belongs inside a " + homes + " block: indent it under that block's first line";
    }
    return name + " belongs in a " + homes + " block, not in a '" + std::string(block_keyword(context)) + "' block";
  }

  ParseState state_;
  // Statements already written (at top level, in the open block), with their lines, so a
  // second one is refused rather than silently replacing the first.
  std::map<const Statement*, int> top_level_seen_;
  std::map<const Statement*, int> block_seen_;
};

}  // namespace

Config parse_config(std::string_view text, const std::string& file_name) {
  if (text.size() > max_config_bytes) {
    throw ConfigError(file_name, 0, "file is larger than 16 MiB: this is not a broker configuration");
  }
  Parser parser(file_name);
  for (const auto& line : split_config_lines(text, file_name)) parser.line(line);
  return parser.finish();
}

Config load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path, 0, std::string("cannot open: ") + std::strerror(errno));
  std::string text;
  text.reserve(4096);
  char buffer[65536];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<size_t>(in.gcount()));
    if (text.size() > max_config_bytes) break;  // parse_config reports it
  }
  if (in.bad()) throw ConfigError(path, 0, std::string("cannot read: ") + std::strerror(errno));
  return parse_config(text, path);
}

const TspConfig& Config::tsp() const {
  for (const auto& t : tsps) {
    if (t.name == broker.tsp) return t;
  }
  throw std::out_of_range("config has no tsp named '" + broker.tsp + "'");
}

const TunnelServerConfig& Config::tunnel_server() const {
  for (const auto& s : servers) {
    if (s.name == broker.tunnel_server) return s;
  }
  throw std::out_of_range("config has no tunnel server named '" + broker.tunnel_server + "'");
}

const PoolConfig* Config::find_pool(std::string_view name) const {
  for (const auto& p : pools) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::string_view to_string(AuthMechanism mechanism) {
  switch (mechanism) {
    case AuthMechanism::Anonymous: return "anonymous";
    case AuthMechanism::Plain: return "plain";
    case AuthMechanism::DigestMd5: return "digest-md5";
    case AuthMechanism::ScramSha256: return "scram-sha-256";
  }
  return "unknown";
}

}  // namespace tsp::config
