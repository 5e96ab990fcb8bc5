// What the metrics endpoint answers, apart from the sockets (so that a fuzz target and the
// unit tests reach it without a network): the request parser with our limits, and the
// response to one parsed request. GET or HEAD /metrics: 200 with the Prometheus text; any
// other path: 404; any other method on /metrics: 405.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace tsp::metrics {

namespace http = boost::beast::http;

using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

// A scrape is one short GET: anything larger is refused before it is buffered.
inline constexpr size_t kMaxRequestHeaderBytes = 8 * 1024;
inline constexpr size_t kMaxRequestBodyBytes = 1024;

// Sets the limits above on a fresh parser (Beast's parsers cannot be moved or returned).
void apply_request_limits(http::request_parser<http::string_body>& parser);

// The path of a request target without its query ("/metrics?x=1" -> "/metrics").
std::string_view target_path(std::string_view target);

// True for a GET or HEAD of /metrics in HTTP/1.0 or 1.1: the requests that need the text.
bool asks_for_metrics(const HttpRequest& req);
// The 200 answer to such a request, with the rendered text (no body for HEAD).
HttpResponse metrics_response(const HttpRequest& req, std::string body);

// Builds the response to `req`; `render` is called only when the metrics are asked for.
// The response keeps the connection open when the request allows it (a version other than
// 1.0 or 1.1 gets 505 and a close).
HttpResponse respond(const HttpRequest& req, const std::function<std::string()>& render);

// The answer to a request that could not be parsed (or was too large): `status`, then close.
HttpResponse error_response(http::status status, unsigned version, std::string_view why);

}  // namespace tsp::metrics
