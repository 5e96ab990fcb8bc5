// The statements of the broker's configuration language, one table per context.
#pragma once

#include <array>
#include <string_view>

#include "config/parse_state.hpp"
#include "config/statement_table.hpp"

namespace tsp::config {

inline constexpr std::array all_block_kinds{BlockKind::Tsp, BlockKind::TunnelServer, BlockKind::TunnelBroker,
                                            BlockKind::Dataplane};

const StatementTable& top_level_statements();
// The statements an indented line may hold inside a block of this kind.
const StatementTable& block_statements(BlockKind kind);
// "tsp", "tunnel server", "tunnel broker", "dataplane": how the block is opened.
std::string_view block_keyword(BlockKind kind);

}  // namespace tsp::config
