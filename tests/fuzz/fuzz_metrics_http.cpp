// Fuzz target: the metrics endpoint's request handling without sockets. The bytes go through
// Beast's parser with the server's limits, as the connection reads them; a parsed request is
// answered by respond(). Besides "no crash": a parsed request never exceeds the limits, only
// GET or HEAD of /metrics renders, and every answer is one of the statuses the server sends.
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/write.hpp>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>

#include "control/metrics/http_routes.hpp"

namespace http = boost::beast::http;
using namespace tsp::metrics;

namespace {

// Consumes `input` as the socket would deliver it; true when a whole request was parsed.
bool parse(std::string_view input, http::request_parser<http::string_body>& parser) {
  boost::beast::error_code ec;
  while (!input.empty() && !parser.is_done()) {
    const size_t used = parser.put(boost::asio::buffer(input.data(), input.size()), ec);
    if (ec == http::error::need_more) {
      // The whole input is here: a request that needs more never completes.
      if (used == 0) break;
      ec = {};
    }
    if (ec) return false;
    input.remove_prefix(used);
  }
  if (!parser.is_done()) {
    if (!parser.got_some()) return false;  // put_eof requires a started message
    parser.put_eof(ec);
    if (ec) return false;
  }
  return parser.is_done();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  http::request_parser<http::string_body> parser;
  apply_request_limits(parser);
  if (!parse(input, parser)) return 0;

  const HttpRequest& req = parser.get();
  if (req.body().size() > kMaxRequestBodyBytes) std::abort();
  bool rendered = false;
  const HttpResponse res = respond(req, [&] {
    rendered = true;
    return std::string("m 1\n");
  });
  const bool metrics_get = (req.method() == http::verb::get || req.method() == http::verb::head) &&
                           target_path(std::string_view(req.target().data(), req.target().size())) == "/metrics" &&
                           (req.version() == 10 || req.version() == 11);
  if (rendered != metrics_get) std::abort();
  switch (res.result()) {
    case http::status::ok:
      if (!metrics_get) std::abort();
      break;
    case http::status::not_found:
    case http::status::method_not_allowed:
    case http::status::http_version_not_supported:
      if (metrics_get) std::abort();
      break;
    default:
      std::abort();
  }
  // What the connection would write must serialise.
  std::ostringstream wire;
  wire << res;
  if (wire.str().rfind("HTTP/1.", 0) != 0) std::abort();
  return 0;
}
