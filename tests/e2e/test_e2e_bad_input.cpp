// Hostile and broken input: the daemon must answer the right status or drop the input, never
// crash, and keep serving other sessions; at the end it must still exit 0 (no leak, no UB).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>

#include <catch2/catch.hpp>

#include "tests/e2e/broker_process.hpp"
#include "tests/e2e/e2e_metrics.hpp"
#include "tests/e2e/tsp_dialogs.hpp"

namespace tsp::e2e {
namespace {

using namespace std::chrono_literals;

// A status the client can read: "NNN ..." or a Content-length frame around it.
int status_of(std::string_view payload) {
  const auto framed = parse_framed_reply(payload);
  if (const auto* reply = std::get_if<FramedReply>(&framed)) return reply->status;
  return leading_status_code(payload);
}

// The request just sent must be dropped, or answered with an error status.
void require_error_or_silence(RudpClient& c, Millis window = kSilenceWindow) {
  const auto reply = c.wait_reply(window);
  if (!reply) return;
  INFO("reply: " << printable(reply->payload));
  CHECK(status_of(reply->payload) >= 300);
}

// An anonymous UDP session that has authenticated and may now send its request.
std::unique_ptr<RudpClient> authenticated_udp(uint16_t port) {
  auto c = std::make_unique<RudpClient>(port);
  udp_hello(*c);
  udp_login_anonymous(*c);
  return c;
}

int framed_status_after_login(uint16_t port, std::string_view message) {
  auto c = authenticated_udp(port);
  const FramedReply reply = require_framed(c->request(message).payload);
  UNSCOPED_INFO("reply: " << printable(reply.status_line + reply.xml));
  return reply.status;
}

std::string billion_laughs_request() {
  std::string xml = "<?xml version=\"1.0\"?>\r\n<!DOCTYPE tunnel [\r\n <!ENTITY lol0 \"lol\">\r\n";
  for (int i = 1; i <= 9; ++i) {
    xml += " <!ENTITY lol" + std::to_string(i) + " \"";
    for (int j = 0; j < 10; ++j) xml += "&lol" + std::to_string(i - 1) + ";";
    xml += "\">\r\n";
  }
  xml += "]>\r\n<tunnel action=\"create\" type=\"v6anyv4\" proxy=\"no\">\r\n <client>\r\n";
  xml += "  <address type=\"ipv4\">&lol9;</address>\r\n </client>\r\n</tunnel>\r\n";
  return content_length_frame(xml);
}

class FdList {
 public:
  ~FdList() {
    for (int fd : fds_) ::close(fd);
  }
  void add(int fd) { fds_.push_back(fd); }
  const std::vector<int>& fds() const { return fds_; }

 private:
  std::vector<int> fds_;
};

void raise_fd_limit(rlim_t wanted) {
  rlimit limit{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &limit) == 0);
  if (limit.rlim_cur >= wanted) return;
  limit.rlim_cur = std::min(wanted, limit.rlim_max);
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &limit) == 0);
  INFO("the flood needs about " << wanted << " descriptors");
  REQUIRE(limit.rlim_cur >= wanted);
}

// `count` TCP connections to the daemon from `local_address` that never finish a message (half
// of them send the start of a VERSION line). Returns how many were established.
size_t open_half_open_connections(uint16_t port, size_t count, FdList& fds,
                                  const std::string& local_address = "127.0.0.1") {
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(port);
  server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  if (::inet_pton(AF_INET, local_address.c_str(), &local.sin_addr) != 1)
    FAIL("bad IPv4 literal in test: " << local_address);
  std::vector<pollfd> pending;
  for (size_t i = 0; i < count; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    fds.add(fd);
    // The source port is chosen at connect(), for the address and the server's port together.
    const int one = 1;
    (void)::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0)
      FAIL("bind(" << local_address << "): " << std::strerror(errno));
    const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&server), sizeof server);
    if (rc == 0 || errno == EINPROGRESS) pending.push_back({fd, POLLOUT, 0});
  }
  size_t established = 0;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!pending.empty() && std::chrono::steady_clock::now() < deadline) {
    ::poll(pending.data(), pending.size(), 100);
    std::vector<pollfd> still;
    for (const pollfd& p : pending) {
      if (!p.revents) {
        still.push_back({p.fd, POLLOUT, 0});
        continue;
      }
      int error = 0;
      socklen_t len = sizeof error;
      ::getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &error, &len);
      if (error == 0) {
        ++established;
        if (established % 2) (void)::send(p.fd, "VERSION=2", 9, MSG_NOSIGNAL);
      }
    }
    pending.swap(still);
  }
  return established;
}

// The floods come from many addresses, as from a botnet: each sends fewer than the default
// `max sessions per-address` (256), so every session of the flood is admitted and held.
constexpr size_t kFloodSources = 10;
constexpr size_t kFloodPerSource = 200;
// 127.0.<block>.1 .. 127.0.<block>.kFloodSources (clear of unique_loopback_source()'s 127.0.100+).
std::string flood_source(int block, size_t index) {
  return "127.0." + std::to_string(block) + "." + std::to_string(index + 1);
}

template <typename F>
Millis time_of(F&& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - start);
}

}  // namespace

TEST_CASE("UDP: short, oversized, misclassified and random datagrams", "[e2e][bad][udp]") {
  BrokerProcess broker;
  broker.start();
  INFO("a session that is in progress while the garbage arrives");
  auto ongoing = authenticated_udp(broker.port());

  {
    RudpClient c(broker.port());
    for (size_t len = 0; len < 8; ++len) {
      INFO("a datagram of " << len << " bytes has no full header: nothing to echo, so no reply");
      c.send_raw(std::string(len, '\xF0'));
      CHECK_FALSE(c.receive_any(Millis{100}));
    }
    INFO("an IPv6 packet (first nibble 6) from an address with no tunnel is dropped");
    std::string ipv6_packet(48, '\0');
    ipv6_packet[0] = '\x60';
    c.send_raw(ipv6_packet);
    CHECK_FALSE(c.receive_any(Millis{100}));
  }
  {
    RudpClient c(broker.port());
    c.send("VERSION=2.0");  // cut before its CRLF
    require_error_or_silence(c);
    c.send(std::string(60000, 'A'));  // 60 KB after a valid header
    require_error_or_silence(c);
    c.send("VERSION=abc\r\n");
    const auto reply = c.wait_reply();
    REQUIRE(reply);
    CHECK(printable(reply->payload) == printable(kUnsupportedVersion));
  }
  {
    std::mt19937 random(20240601);  // fixed seed: the same garbage on every run
    RudpClient c(broker.port());
    for (int i = 0; i < 200; ++i) {
      std::string garbage(1 + random() % 1500, '\0');
      for (char& b : garbage) b = static_cast<char>(random());
      if (i % 2) {
        c.send(garbage);  // behind a well-formed RUDP header
        require_error_or_silence(c, Millis{30});  // a later reply is ignored, as gogoc would
      } else {
        c.send_raw(garbage);
      }
    }
  }

  INFO("the session that was in progress carries on");
  udp_create_offer(*ongoing, {});
  udp_accept(*ongoing);
  require_fresh_sessions_work(broker.port());
  REQUIRE(broker.is_running());
  broker.stop_expect_clean_exit();
}

TEST_CASE("UDP: wrong Content-length, bad XML and an entity bomb get a framed 500", "[e2e][bad][udp]") {
  BrokerProcess broker;
  broker.start();
  const std::string body = request_xml({});

  CHECK(framed_status_after_login(broker.port(), "Content-length: 300\r\n" + body) == 500);
  CHECK(framed_status_after_login(broker.port(), "Content-length: 100\r\n" + body) == 500);
  CHECK(framed_status_after_login(broker.port(), "Content-length: abc\r\n" + body) == 500);
  CHECK(framed_status_after_login(broker.port(), content_length_frame(body.substr(0, 120))) == 500);
  CHECK(framed_status_after_login(broker.port(), content_length_frame("\x01\x02<<>>\xff\r\n")) == 500);
  Millis bomb_time{};
  bomb_time = time_of([&] { CHECK(framed_status_after_login(broker.port(), billion_laughs_request()) == 500); });
  INFO("the bomb is refused, not expanded");
  CHECK(bomb_time < Millis{2000});

  require_fresh_sessions_work(broker.port());
  broker.stop_expect_clean_exit();
}

TEST_CASE("TCP: a 1 MB line, truncated messages and garbage", "[e2e][bad][tcp]") {
  BrokerProcess broker;
  broker.start();

  SECTION("1 MB without CRLF: the daemon closes the connection") {
    TcpClient c(broker.port());
    (void)c.try_send(std::string(1 << 20, 'V'), Millis{10000});
    CHECK(c.wait_closed_by_peer(Millis{5000}));
  }
  SECTION("messages cut short by the client closing") {
    {
      TcpClient c(broker.port());
      c.send("VERSION=2.0");
    }
    {
      TcpClient c(broker.port());
      tcp_hello(c);
      tcp_login_anonymous(c);
      c.send("Content-length: 214\r\n<tunnel action=\"create\"");
    }
    {
      TcpClient c(broker.port());
      tcp_hello(c);
      c.send("AUTHENTICATE PL");
    }
  }
  SECTION("random bytes: an error or a close, nothing else") {
    std::mt19937 random(7);
    for (int i = 0; i < 10; ++i) {
      TcpClient c(broker.port());
      std::string garbage(1 + random() % 3000, '\0');
      for (char& b : garbage) b = static_cast<char>(random());
      garbage += "\r\n";
      if (!c.try_send(garbage, Millis{2000})) continue;
      const TcpRead r = c.recv_once(kSilenceWindow);
      if (r.kind == TcpRead::Kind::Data) {
        INFO("reply: " << printable(r.data));
        CHECK(status_of(r.data) >= 300);
      }
    }
  }
  SECTION("VERSION=abc") {
    TcpClient c(broker.port());
    c.send("VERSION=abc\r\n");
    CHECK(printable(c.read_reply()) == printable(kUnsupportedVersion));
  }

  require_fresh_sessions_work(broker.port());
  broker.stop_expect_clean_exit();
}

TEST_CASE("Floods: 2000 half-open TCP connections, 2000 UDP sessions that only say VERSION", "[e2e][bad][flood]") {
  raise_fd_limit(8192);  // before the start: the daemon inherits it
  const uint16_t metrics_port = pick_free_port();
  BrokerSettings settings;
  settings.global_lines = {"metrics listen 127.0.0.1 " + std::to_string(metrics_port)};
  BrokerProcess broker(settings);
  broker.start();
  const std::string unfinished = "tspbroker_tsp_sessions_unfinished";

  {
    FdList connections;
    size_t established = 0;
    for (size_t s = 0; s < kFloodSources; ++s)
      established += open_half_open_connections(broker.port(), kFloodPerSource, connections, flood_source(1, s));
    INFO(established << " of 2000 connections established");
    CHECK(established > 0);
    INFO("every connection established is admitted as an unfinished session, none refused 530");
    CHECK(await_sample(metrics_port, unfinished, static_cast<long long>(established)) ==
          static_cast<long long>(established));
    const Millis t = time_of([&] { require_fresh_sessions_work(broker.port()); });
    INFO("a new client during the TCP flood took " << t.count() << " ms");
    CHECK(t < Millis{5000});
  }
  {
    INFO("the closed connections no longer count; the fresh UDP client's session (an offer) does");
    CHECK(await_sample(metrics_port, unfinished, 1) == 1);
  }
  {
    std::vector<std::unique_ptr<RudpClient>> sessions;
    size_t answered = 0;
    for (size_t batch = 0; batch < kFloodSources; ++batch) {
      const size_t first = sessions.size();
      for (size_t i = 0; i < kFloodPerSource; ++i) {
        sessions.push_back(std::make_unique<RudpClient>(broker.port(), flood_source(2, batch)));
        sessions.back()->send(version_line("2.0.2"));
      }
      for (size_t i = first; i < sessions.size(); ++i) {
        auto reply = sessions[i]->wait_reply(Millis{1000});
        if (!reply) {  // gogoc would retransmit; the loopback queue may have overflowed
          sessions[i]->retransmit();
          reply = sessions[i]->wait_reply(Millis{2000});
        }
        if (reply && reply->payload == kCapabilityAll) ++answered;
      }
    }
    CHECK(answered == 2000);
    CHECK(await_sample(metrics_port, unfinished, 2001) == 2001);
    const std::string text = scrape_metrics(metrics_port);
    CHECK(metric_sample(text, "tspbroker_tsp_session_sources") == static_cast<long long>(kFloodSources) + 1);
    CHECK(metric_sample(text, "tspbroker_tsp_session_sources_at_limit") == 0);
    CHECK(metric_sample(text, "tspbroker_tsp_sessions_limited_total{limit=\"per_address\"}") == 0);
    CHECK(metric_sample(text, "tspbroker_tsp_sessions_limited_total{limit=\"all\"}") == 0);
    const Millis t = time_of([&] { require_fresh_sessions_work(broker.port()); });
    INFO("a new client with 2000 UDP sessions open took " << t.count() << " ms");
    CHECK(t < Millis{5000});
  }

  broker.stop_expect_clean_exit();
}

TEST_CASE("max sessions 100: the 101st new session gets 530", "[e2e][bad][flood]") {
  BrokerSettings settings;
  settings.tsp_lines.push_back("max sessions 100");
  BrokerProcess broker(settings);
  broker.start();

  std::vector<std::unique_ptr<RudpClient>> sessions;
  size_t accepted = 0;
  for (int i = 0; i < 100; ++i) {
    sessions.push_back(std::make_unique<RudpClient>(broker.port()));
    if (sessions.back()->request(version_line("2.0.2")).payload == kCapabilityAll) ++accepted;
  }
  CHECK(accepted == 100);
  RudpClient extra(broker.port());
  const RudpReply busy = extra.request(version_line("2.0.2"));
  INFO("reply: " << printable(busy.payload));
  CHECK(leading_status_code(busy.payload) == 530);

  broker.stop_expect_clean_exit();
}

// What the servers drop or close before any session decides is what an operator watches for
// attacks and broken clients: each reason has its own series.
TEST_CASE("drops and closes by the TSP servers are counted in /metrics by reason", "[e2e][bad][metrics]") {
  const uint16_t metrics_port = pick_free_port();
  BrokerSettings settings;
  settings.global_lines = {"metrics listen 127.0.0.1 " + std::to_string(metrics_port)};
  BrokerProcess broker(settings);
  broker.start();
  {
    RudpClient c(broker.port());
    for (int i = 0; i < 3; ++i) c.send_raw("\xF0\xF0");  // no whole RUDP header
    c.send("CAPABILITY\r\n");                         // well framed, but no session and no VERSION=
    CHECK_FALSE(c.receive_any(Millis{200}));
  }
  {
    TcpClient c(broker.port());
    c.send("Content-length: 99999999\r\n");  // more than any TSP message
    CHECK(c.wait_closed_by_peer(Millis{2000}));
  }
  const std::string text = scrape_metrics(metrics_port);
  INFO(text.substr(0, 400));
  CHECK(metric_sample(text, "tspbroker_tsp_udp_dropped_total{reason=\"malformed\"}") == 3);
  CHECK(metric_sample(text, "tspbroker_tsp_udp_dropped_total{reason=\"unknown_session\"}") == 1);
  CHECK(metric_sample(text, "tspbroker_tsp_udp_datagrams_total{direction=\"received\"}") == 4);
  CHECK(metric_sample(text, "tspbroker_tsp_tcp_connections_total") >= 1);
  CHECK(metric_sample(text, "tspbroker_tsp_tcp_closed_total{reason=\"bad_framing\"}") == 1);
  CHECK(metric_sample(text, "tspbroker_tsp_tcp_closed_total{reason=\"tunnel_gone\"}") == 0);
  broker.stop_expect_clean_exit();
}

}  // namespace tsp::e2e
