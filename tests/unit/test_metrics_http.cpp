// The metrics endpoint over real loopback sockets: routes and status codes, HEAD, keep-alive,
// and the defences (size limits, read deadline, connection cap, stop closing connections).
// The server runs on its own io_context thread; the test is a plain blocking client.
#include <catch2/catch.hpp>
#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>

#include "control/metrics/http_routes.hpp"
#include "control/metrics/http_server.hpp"
#include "control/metrics/prometheus_text.hpp"

using namespace tsp::metrics;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

const std::string kBody = "# HELP m h\n# TYPE m gauge\nm 1\n";

// A server on 127.0.0.1 (ephemeral port), served by a thread until the fixture goes.
class ServerFixture {
 public:
  explicit ServerFixture(HttpServerLimits limits = {})
      : work_(asio::make_work_guard(io_)),
        server_(io_, tcp::endpoint(asio::ip::address_v4::loopback(), 0),
                [this] {
                  ++renders_;
                  if (gate.valid()) {
                    rendering = true;
                    gate.wait_for(std::chrono::seconds(5));
                    rendering = false;
                  }
                  if (fail_render) throw std::invalid_argument("bad metric name");
                  return kBody;
                },
                limits) {
    server_.start();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~ServerFixture() {
    stop();
    work_.reset();
    io_.stop();
    thread_.join();
  }
  uint16_t port() const { return server_.local_endpoint().port(); }
  // Runs `fn` on the server's thread and waits for it.
  template <class Fn>
  auto on_server(Fn fn) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto result = task.get_future();
    asio::post(io_, [&task] { task(); });
    return result.get();
  }
  void stop() {
    on_server([this] {
      server_.stop();
      return 0;
    });
  }
  HttpServerCounters counters() {
    return on_server([this] { return server_.counters(); });
  }
  int renders() const { return renders_.load(); }
  std::atomic<bool> fail_render{false};
  std::shared_future<void> gate;  // when valid, a rendering waits for it (at most 5 s)
  std::atomic<bool> rendering{false};

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::atomic<int> renders_{0};
  MetricsHttpServer server_;
  std::thread thread_;
};

// A blocking client whose reads give up after two seconds (a hung server fails the test).
class Client {
 public:
  explicit Client(uint16_t port) : socket_(io_) {
    socket_.connect(tcp::endpoint(asio::ip::address_v4::loopback(), port));
    timeval tv{2, 0};
    setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  void send(const std::string& bytes) { asio::write(socket_, asio::buffer(bytes)); }
  // Everything until the server closes (or the read times out: then what came so far).
  std::string read_to_end() {
    std::string out;
    char buf[4096];
    for (;;) {
      const ssize_t n = ::recv(socket_.native_handle(), buf, sizeof buf, 0);
      if (n <= 0) return out;
      out.append(buf, static_cast<size_t>(n));
    }
  }
  // Reads until `count` complete responses with Content-Length bodies have arrived.
  std::string read_responses(size_t count) {
    std::string out;
    char buf[4096];
    while (complete_responses(out) < count) {
      const ssize_t n = ::recv(socket_.native_handle(), buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  void close() { socket_.close(); }

 private:
  static size_t complete_responses(const std::string& text) {
    size_t count = 0, pos = 0;
    for (;;) {
      const auto head_end = text.find("\r\n\r\n", pos);
      if (head_end == std::string::npos) return count;
      const auto cl = text.find("Content-Length: ", pos);
      if (cl == std::string::npos || cl > head_end) return count;
      const size_t length = std::stoul(text.substr(cl + 16));
      if (text.size() < head_end + 4 + length) return count;
      pos = head_end + 4 + length;
      ++count;
    }
  }
  asio::io_context io_;
  tcp::socket socket_;
};

std::string request_once(uint16_t port, const std::string& bytes) {
  Client c(port);
  c.send(bytes);
  return c.read_to_end();
}

std::string status_line(const std::string& response) { return response.substr(0, response.find("\r\n")); }

std::string body_of(const std::string& response) {
  const auto end = response.find("\r\n\r\n");
  return end == std::string::npos ? std::string() : response.substr(end + 4);
}

bool has_header(const std::string& response, const std::string& line) {
  const auto head = response.substr(0, response.find("\r\n\r\n") + 2);
  return head.find("\r\n" + line + "\r\n") != std::string::npos;
}

// Renderings now wait for `release`; sends `request` on `scrape` and returns once its
// rendering has begun.
void begin_held_scrape(ServerFixture& fx, std::promise<void>& release, Client& scrape, const std::string& request) {
  fx.gate = release.get_future().share();
  scrape.send(request);
  for (int i = 0; i < 200 && !fx.rendering; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(fx.rendering);
}

}  // namespace

TEST_CASE("GET /metrics answers 200 with the Prometheus content type and the rendered text", "[metrics][http]") {
  ServerFixture fx;
  const auto target = GENERATE(std::string("/metrics"), std::string("/metrics?name[]=x"));
  const auto res = request_once(fx.port(), "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(status_line(res) == "HTTP/1.1 200 OK");
  CHECK(has_header(res, "Content-Type: text/plain; version=0.0.4; charset=utf-8"));
  CHECK(has_header(res, "Content-Length: " + std::to_string(kBody.size())));
  CHECK(body_of(res) == kBody);
}

TEST_CASE("HTTP/1.0 without keep-alive gets its answer and a close", "[metrics][http]") {
  ServerFixture fx;
  const auto res = request_once(fx.port(), "GET /metrics HTTP/1.0\r\n\r\n");
  CHECK(status_line(res) == "HTTP/1.0 200 OK");
  CHECK(body_of(res) == kBody);
}

TEST_CASE("HEAD /metrics: the headers a GET gets, no body", "[metrics][http]") {
  ServerFixture fx;
  const auto res = request_once(fx.port(), "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(status_line(res) == "HTTP/1.1 200 OK");
  CHECK(has_header(res, "Content-Length: " + std::to_string(kBody.size())));
  CHECK(body_of(res).empty());
}

TEST_CASE("other paths get 404, other methods on /metrics 405 with Allow", "[metrics][http]") {
  ServerFixture fx;
  SECTION("404") {
    const auto path = GENERATE(std::string("/"), std::string("/metrics/"), std::string("/metricsx"),
                               std::string("*"), std::string("http://host/metrics"));
    const auto res = request_once(fx.port(), "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    CHECK(status_line(res) == "HTTP/1.1 404 Not Found");
  }
  SECTION("405") {
    const auto method = GENERATE(std::string("POST"), std::string("PUT"), std::string("DELETE"),
                                 std::string("OPTIONS"));
    const auto res = request_once(
        fx.port(), method + " /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    CHECK(status_line(res) == "HTTP/1.1 405 Method Not Allowed");
    CHECK(has_header(res, "Allow: GET, HEAD"));
  }
  CHECK(fx.renders() == 0);  // nothing rendered for requests that do not get the metrics
}

TEST_CASE("keep-alive: several requests on one connection, pipelined", "[metrics][http]") {
  ServerFixture fx;
  Client c(fx.port());
  c.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto two = c.read_responses(2);
  CHECK(two.find("HTTP/1.1 200 OK") == 0);
  CHECK(two.find("HTTP/1.1 404 Not Found") != std::string::npos);
  c.send("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const auto last = c.read_to_end();
  CHECK(status_line(last) == "HTTP/1.1 200 OK");
  CHECK(fx.counters().requests == 3);
  CHECK(fx.counters().connections == 1);
}

TEST_CASE("malformed and oversized requests get 400, 431 or 413 and a close", "[metrics][http]") {
  ServerFixture fx;
  SECTION("garbage") {
    const auto bytes = GENERATE(std::string("GARBAGE\r\n\r\n"), std::string("GET /metrics HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
                                std::string("GET /metrics HTTP/1.1\r\nBad Header\r\n\r\n"),
                                std::string("GET /metrics HTTP/1.1\r\nContent-Length: -1\r\n\r\n"),
                                std::string("\0\0\0\0\r\n\r\n", 8));
    const auto res = request_once(fx.port(), bytes);
    CHECK(status_line(res) == "HTTP/1.1 400 Bad Request");
    CHECK(has_header(res, "Connection: close"));
  }
  SECTION("header over the limit") {
    const auto res =
        request_once(fx.port(), "GET /metrics HTTP/1.1\r\nX-Big: " + std::string(kMaxRequestHeaderBytes, 'a') + "\r\n\r\n");
    CHECK(status_line(res) == "HTTP/1.1 431 Request Header Fields Too Large");
  }
  SECTION("body over the limit") {
    const auto res = request_once(fx.port(), "POST /metrics HTTP/1.1\r\nContent-Length: " +
                                                 std::to_string(kMaxRequestBodyBytes + 1) + "\r\n\r\n" +
                                                 std::string(kMaxRequestBodyBytes + 1, 'b'));
    CHECK(status_line(res) == "HTTP/1.1 413 Payload Too Large");
  }
  CHECK(fx.counters().bad_requests == 1);
  CHECK(fx.renders() == 0);
}

TEST_CASE("an HTTP version other than 1.0 and 1.1 gets 505 and a close", "[metrics][http]") {
  ServerFixture fx;
  const auto version = GENERATE(std::string("2.0"), std::string("0.9"), std::string("1.2"));
  const auto res = request_once(fx.port(), "GET /metrics HTTP/" + version + "\r\n\r\n");
  CHECK(status_line(res) == "HTTP/1.1 505 HTTP Version Not Supported");
  CHECK(has_header(res, "Connection: close"));
  CHECK(fx.renders() == 0);
}

TEST_CASE("a slow rendering does not hold the I/O thread: other requests are answered meanwhile",
          "[metrics][http]") {
  ServerFixture fx;
  std::promise<void> release;
  Client scrape(fx.port());
  begin_held_scrape(fx, release, scrape, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const auto other = request_once(fx.port(), "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(status_line(other) == "HTTP/1.1 404 Not Found");
  CHECK(fx.rendering);  // the 404 did not wait for it
  release.set_value();
  const auto res = scrape.read_to_end();
  CHECK(status_line(res) == "HTTP/1.1 200 OK");
  CHECK(body_of(res) == kBody);
}

TEST_CASE("stop waits for a rendering in progress; its connection gets no answer", "[metrics][http]") {
  ServerFixture fx;
  std::promise<void> release;
  Client scrape(fx.port());
  begin_held_scrape(fx, release, scrape, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    release.set_value();
  });
  fx.stop();
  CHECK_FALSE(fx.rendering);  // stop returned after the rendering ended
  releaser.join();
  CHECK(scrape.read_to_end().empty());  // closed, nothing written after stop
}

TEST_CASE("a collector that throws costs one scrape a 500, not the server", "[metrics][http]") {
  ServerFixture fx;
  fx.fail_render = true;
  const auto res = request_once(fx.port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(status_line(res) == "HTTP/1.1 500 Internal Server Error");
  fx.fail_render = false;
  const auto again = request_once(fx.port(), "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(status_line(again) == "HTTP/1.1 200 OK");
}

TEST_CASE("a client that stops sending is cut off at the read deadline", "[metrics][http]") {
  HttpServerLimits limits;
  limits.read_timeout = std::chrono::milliseconds(200);
  ServerFixture fx(limits);
  Client c(fx.port());
  c.send("GET /metrics HTTP/1.1\r\nHost:");  // and nothing more
  const auto start = std::chrono::steady_clock::now();
  CHECK(c.read_to_end().empty());  // closed without an answer
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(1500));
  CHECK(fx.counters().timeouts == 1);
}

TEST_CASE("over the connection cap new connections are closed at once", "[metrics][http]") {
  HttpServerLimits limits;
  limits.max_connections = 2;
  ServerFixture fx(limits);
  Client a(fx.port()), b(fx.port());
  // A full answer on each proves both were accepted and are held open (keep-alive).
  for (Client* c : {&a, &b}) {
    c->send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(status_line(c->read_responses(1)) == "HTTP/1.1 200 OK");
  }
  Client refused(fx.port());
  CHECK(refused.read_to_end().empty());
  CHECK(fx.counters().refused_connections == 1);

  // Once one leaves, there is room again.
  a.close();
  std::string res;
  for (int attempt = 0; attempt < 50 && status_line(res) != "HTTP/1.1 200 OK"; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    res = request_once(fx.port(), "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  }
  CHECK(status_line(res) == "HTTP/1.1 200 OK");
}

TEST_CASE("stop closes idle keep-alive connections and the listening socket", "[metrics][http]") {
  ServerFixture fx;
  const uint16_t port = fx.port();
  Client c(port);
  c.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(status_line(c.read_responses(1)) == "HTTP/1.1 200 OK");
  fx.stop();
  CHECK(c.read_to_end().empty());
  CHECK_THROWS(Client(port));
}

TEST_CASE("routing without sockets: target paths and the 405 answer", "[metrics][http][routes]") {
  CHECK(target_path("/metrics") == "/metrics");
  CHECK(target_path("/metrics?a=b") == "/metrics");
  CHECK(target_path("/metrics#frag") == "/metrics");
  CHECK(target_path("") == "");
  HttpRequest req{http::verb::patch, "/metrics", 11};
  int renders = 0;
  auto render = [&] {
    ++renders;
    return std::string("x");
  };
  CHECK(respond(req, render).result() == http::status::method_not_allowed);
  HttpRequest old{http::verb::get, "/metrics", 9};
  CHECK(respond(old, render).result() == http::status::http_version_not_supported);
  CHECK(renders == 0);
}
