// Fuzz target: everything tspc reads from a broker before it trusts it (status lines,
// CAPABILITY, Content-length framing, the offer/redirect XML behind it). Must never crash.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "control/xml/tunnel_xml.hpp"
#include "tools/tspc/reply_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)tsp::tspc::leading_status_code(input);
  (void)tsp::tspc::first_line(input);
  if (const auto caps = tsp::tspc::parse_capability_line(input)) (void)tsp::tspc::describe(*caps);
  (void)tsp::tspc::framed_reply_size(input);
  const auto frame = tsp::tspc::parse_framed_reply(input);
  if (const auto* reply = std::get_if<tsp::tspc::FramedReply>(&frame)) (void)tsp::xml::parse_offer_xml(reply->xml);
  return 0;
}
