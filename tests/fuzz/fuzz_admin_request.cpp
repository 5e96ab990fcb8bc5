// Fuzz target for the admin socket's request parser (what a local peer sends the daemon):
// never crash; whatever parses must encode and parse back to the same request.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

#include "control/admin/admin_protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tsp::admin;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto parsed = parse_request(input);
  const auto* req = std::get_if<AdminRequest>(&parsed);
  if (!req) return 0;
  const std::string line = encode_request(*req);
  const auto again = parse_request(std::string_view(line).substr(0, line.size() - 1));
  const auto* back = std::get_if<AdminRequest>(&again);
  // Invalid UTF-8 in a field is replaced on encoding: the command must still match, and the
  // numbers (history's time and limit) come back unchanged.
  if (!back || back->command != req->command || back->at != req->at || back->limit != req->limit) std::abort();
  std::string why;
  (void)parse_reply(input, why);
  return 0;
}
