#include "control/metrics/http_routes.hpp"

#include "control/metrics/prometheus_text.hpp"

namespace tsp::metrics {

namespace {

constexpr std::string_view kMetricsPath = "/metrics";

HttpResponse text_response(http::status status, unsigned version, std::string body, bool keep_alive) {
  HttpResponse res{status, version};
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.body() = std::move(body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

}  // namespace

void apply_request_limits(http::request_parser<http::string_body>& parser) {
  parser.header_limit(static_cast<std::uint32_t>(kMaxRequestHeaderBytes));
  parser.body_limit(kMaxRequestBodyBytes);
}

std::string_view target_path(std::string_view target) {
  const auto query = target.find_first_of("?#");
  return query == std::string_view::npos ? target : target.substr(0, query);
}

HttpResponse respond(const HttpRequest& req, const std::function<std::string()>& render) {
  // Beast's parser refuses other versions already (the server answers those 505 too): kept
  // for requests built by other means.
  if (req.version() != 10 && req.version() != 11) {
    return error_response(http::status::http_version_not_supported, 11, "HTTP/1.0 or HTTP/1.1 only");
  }
  const bool keep_alive = req.keep_alive();
  const auto target = std::string_view(req.target().data(), req.target().size());
  if (target_path(target) != kMetricsPath) {
    return text_response(http::status::not_found, req.version(), "not found: try /metrics\n", keep_alive);
  }
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    HttpResponse res = text_response(http::status::method_not_allowed, req.version(), "only GET and HEAD\n", keep_alive);
    res.set(http::field::allow, "GET, HEAD");
    return res;
  }
  return metrics_response(req, render());
}

bool asks_for_metrics(const HttpRequest& req) {
  const auto target = std::string_view(req.target().data(), req.target().size());
  return (req.version() == 10 || req.version() == 11) && target_path(target) == kMetricsPath &&
         (req.method() == http::verb::get || req.method() == http::verb::head);
}

HttpResponse metrics_response(const HttpRequest& req, std::string body) {
  HttpResponse res{http::status::ok, req.version()};
  res.set(http::field::content_type, std::string(kPrometheusContentType));
  res.keep_alive(req.keep_alive());
  if (req.method() == http::verb::head) {
    res.content_length(body.size());  // the size a GET would get, and no body
  } else {
    res.body() = std::move(body);
    res.prepare_payload();
  }
  return res;
}

HttpResponse error_response(http::status status, unsigned version, std::string_view why) {
  return text_response(status, version, std::string(why) + "\n", false);
}

}  // namespace tsp::metrics
