#include "perf/tsp_load/load_runner.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <thread>

namespace tsp::load {

namespace {

using Clock = std::chrono::steady_clock;

constexpr uint32_t kFirstSequence = 0xF00000F0;  // gogoc's first RUDP sequence word (§1.2)
constexpr std::chrono::milliseconds kSweepEvery{5};

sockaddr_in socket_address(Ipv4Addr addr, uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(addr.value);
  sa.sin_port = htons(port);
  return sa;
}

void put_be32(char* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(v >> (24 - 8 * i));
}

uint32_t get_be32(const char* in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

// One client in flight.
struct Slot {
  int fd = -1;
  std::optional<ClientDialogue> dialogue;
  GroupKey group;
  Clock::time_point started, last_io;
  uint32_t sequence = 0;  // UDP: the word of the request in flight
  unsigned tries = 0;     // UDP: transmissions of that request
  bool connecting = false;
  uint32_t watched = 0;  // the epoll events registered now: no epoll_ctl when they stay
  std::string pending;  // TCP: bytes of the current message not yet written
  ReplySplitter splitter;
};

// One thread's share of the plan: clients first, first + stride, first + 2 stride, ...
class Worker {
 public:
  Worker(const LoadPlan& plan, size_t first, size_t stride, size_t slots)
      : plan_(plan), next_(first), stride_(stride), slots_(slots), epoch_(Clock::now()) {
    epfd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
  }
  ~Worker() {
    for (auto& s : slots_)
      if (s.fd >= 0) ::close(s.fd);
    ::close(epfd_);
  }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  RunReport run();

 private:
  void launch_free_slots();
  void launch(Slot& s);
  void open_udp(Slot& s, const sockaddr_in& src);
  void open_tcp(Slot& s, const sockaddr_in& src);
  void send_udp(Slot& s, bool retransmission);
  void on_udp_readable(Slot& s);
  void on_tcp_event(Slot& s, uint32_t events);
  void write_tcp(Slot& s);
  void advance(Slot& s);
  void fail(Slot& s, FailureKind kind, std::string text);
  void finish(Slot& s);
  void sweep();
  void watch(Slot& s, uint32_t events, int op);

  const LoadPlan& plan_;
  size_t next_;
  size_t stride_;
  std::vector<Slot> slots_;
  Clock::time_point epoch_;
  int epfd_ = -1;
  size_t active_ = 0;
  std::vector<size_t> free_;  // slots waiting for their next client (never relaunched in place:
                              // a client that fails at once must not recurse into the next)
  RunReport report_;
  Clock::time_point first_start_{}, last_finish_{};
  std::array<char, 65536> rx_{};
  std::string tx_;
};

void Worker::watch(Slot& s, uint32_t events, int op) {
  // The generator shares the broker's cores: a system call it need not make is CPU the
  // broker gets (perf/README.md, "tsp_load").
  if (op == EPOLL_CTL_MOD && s.watched == events) return;
  s.watched = events;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = static_cast<uint64_t>(&s - slots_.data());
  if (epoll_ctl(epfd_, op, s.fd, &ev) != 0) fail(s, FailureKind::Transport, std::string("epoll_ctl: ") + std::strerror(errno));
}

void Worker::launch(Slot& s) {
  if (next_ >= plan_.clients) return;
  const size_t i = next_;
  next_ += stride_;
  s.dialogue.emplace(client_spec(plan_, i));
  s.group = group_of(s.dialogue->spec());
  s.splitter = ReplySplitter();
  s.pending.clear();
  s.connecting = false;
  s.watched = 0;
  s.started = s.last_io = Clock::now();
  if (first_start_ == Clock::time_point{}) first_start_ = s.started;
  ++report_.groups[s.group].started;
  ++active_;

  const auto src = socket_address(Ipv4Addr{plan_.source_base.value + static_cast<uint32_t>(plan_.first_index + i)}, 0);
  if (s.group.transport == Transport::Udp) open_udp(s, src);
  else open_tcp(s, src);
}

void Worker::open_udp(Slot& s, const sockaddr_in& src) {
  s.fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s.fd < 0) return fail(s, FailureKind::Transport, std::string("socket: ") + std::strerror(errno));
  const auto dst = socket_address(plan_.server, plan_.port);
  // connect(): like gogoc, accept datagrams from the broker's address and port only.
  if (::bind(s.fd, reinterpret_cast<const sockaddr*>(&src), sizeof src) != 0 ||
      ::connect(s.fd, reinterpret_cast<const sockaddr*>(&dst), sizeof dst) != 0)
    return fail(s, FailureKind::Transport, std::string("bind/connect: ") + std::strerror(errno));
  watch(s, EPOLLIN, EPOLL_CTL_ADD);
  if (s.fd < 0) return;
  s.dialogue->start();
  s.sequence = kFirstSequence - 1;
  send_udp(s, false);
}

void Worker::open_tcp(Slot& s, const sockaddr_in& src) {
  s.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s.fd < 0) return fail(s, FailureKind::Transport, std::string("socket: ") + std::strerror(errno));
  const int one = 1;
  ::setsockopt(s.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const auto dst = socket_address(plan_.server, plan_.port);
  if (::bind(s.fd, reinterpret_cast<const sockaddr*>(&src), sizeof src) != 0)
    return fail(s, FailureKind::Transport, std::string("bind: ") + std::strerror(errno));
  if (::connect(s.fd, reinterpret_cast<const sockaddr*>(&dst), sizeof dst) != 0 && errno != EINPROGRESS)
    return fail(s, FailureKind::Transport, std::string("connect: ") + std::strerror(errno));
  s.connecting = true;
  watch(s, EPOLLIN | EPOLLOUT, EPOLL_CTL_ADD);
}

void Worker::send_udp(Slot& s, bool retransmission) {
  if (!retransmission) {
    ++s.sequence;
    s.tries = 0;
  }
  ++s.tries;
  const auto& payload = s.dialogue->next();
  tx_.resize(8 + payload.size());
  put_be32(tx_.data(), s.sequence);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - epoch_).count();
  put_be32(tx_.data() + 4, static_cast<uint32_t>(ms));
  if (!payload.empty()) std::memcpy(tx_.data() + 8, payload.data(), payload.size());
  s.last_io = Clock::now();
  if (::send(s.fd, tx_.data(), tx_.size(), 0) < 0 && errno != EAGAIN && errno != ENOBUFS)
    fail(s, FailureKind::Transport, std::string("send: ") + std::strerror(errno));
  // EAGAIN/ENOBUFS: the datagram is lost; the retransmission timer sends it again.
}

// One datagram per readiness event: epoll is level-triggered, so another queued datagram
// (a duplicate answer) reports the socket again, and no recv() ends in EAGAIN.
void Worker::on_udp_readable(Slot& s) {
  const ssize_t n = ::recv(s.fd, rx_.data(), rx_.size(), 0);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    return fail(s, FailureKind::Transport, std::string("recv: ") + std::strerror(errno));
  }
  if (n < 8 || (static_cast<uint8_t>(rx_[0]) >> 4) != 0xF) return;
  if (get_be32(rx_.data()) != s.sequence) return;  // the answer to an older transmission
  s.last_io = Clock::now();
  s.dialogue->on_reply(std::string_view(rx_.data() + 8, static_cast<size_t>(n) - 8));
  advance(s);
}

void Worker::on_tcp_event(Slot& s, uint32_t events) {
  if (s.connecting) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    // Writable without an error or hang-up means connected: SO_ERROR is only read when needed.
    if (events & (EPOLLERR | EPOLLHUP)) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      return fail(s, FailureKind::Transport, std::string("connect: ") + std::strerror(err != 0 ? err : ECONNRESET));
    }
    s.connecting = false;
    s.last_io = Clock::now();
    s.pending = s.dialogue->start();
    write_tcp(s);
    return;
  }
  if ((events & EPOLLOUT) && !s.pending.empty()) {
    write_tcp(s);
    if (s.fd < 0) return;
  }
  if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP))) return;
  // Level-triggered: a read that fills the buffer reads again, a shorter one waits for epoll.
  for (bool more = true; more && s.fd >= 0;) {
    const ssize_t n = ::recv(s.fd, rx_.data(), rx_.size(), 0);
    more = n == static_cast<ssize_t>(rx_.size());
    if (n == 0) return fail(s, FailureKind::Transport, "closed by the broker");
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      return fail(s, FailureKind::Transport, std::string("recv: ") + std::strerror(errno));
    }
    s.last_io = Clock::now();
    s.splitter.append(std::string_view(rx_.data(), static_cast<size_t>(n)));
    std::string msg;
    while (s.fd >= 0 && s.splitter.next(msg)) {
      s.dialogue->on_reply(msg);
      advance(s);  // before the next message: each reply may ask for its own answer
    }
    if (s.fd >= 0 && !s.splitter.error().empty()) return fail(s, FailureKind::Protocol, s.splitter.error());
  }
}

void Worker::write_tcp(Slot& s) {
  while (!s.pending.empty()) {
    const ssize_t n = ::send(s.fd, s.pending.data(), s.pending.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN) return watch(s, EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD);
      if (errno == EINTR) continue;
      return fail(s, FailureKind::Transport, std::string("send: ") + std::strerror(errno));
    }
    s.pending.erase(0, static_cast<size_t>(n));
  }
  s.last_io = Clock::now();
  watch(s, EPOLLIN, EPOLL_CTL_MOD);
  if (s.fd < 0) return;
  s.dialogue->on_sent();
  if (s.dialogue->done()) finish(s);
}

void Worker::advance(Slot& s) {
  auto& d = *s.dialogue;
  if (d.done() || d.failed()) return finish(s);
  if (s.group.transport == Transport::Udp) return send_udp(s, false);
  if (d.next().empty()) return;  // the broker speaks next (its pushed status after rspauth)
  s.pending = d.next();
  write_tcp(s);
}

void Worker::fail(Slot& s, FailureKind kind, std::string text) {
  s.dialogue->fail(kind, std::move(text));
  finish(s);
}

void Worker::finish(Slot& s) {
  const auto now = Clock::now();
  auto& g = report_.groups[s.group];
  if (s.dialogue->done()) {
    ++g.succeeded;
    g.latency_us.push_back(
        static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(now - s.started).count()));
  } else {
    g.add_failure(*s.dialogue);
  }
  if (s.fd >= 0) ::close(s.fd);  // also leaves the epoll set
  s.fd = -1;
  s.dialogue.reset();
  --active_;
  last_finish_ = now;
  free_.push_back(static_cast<size_t>(&s - slots_.data()));
}

void Worker::launch_free_slots() {
  while (!free_.empty() && next_ < plan_.clients) {
    const size_t index = free_.back();
    free_.pop_back();
    launch(slots_[index]);
  }
}

void Worker::sweep() {
  const auto now = Clock::now();
  const auto rto = std::chrono::milliseconds(plan_.udp_rto_ms);
  const auto tcp_limit = std::chrono::milliseconds(plan_.tcp_timeout_ms);
  for (auto& s : slots_) {
    if (s.fd < 0 || !s.dialogue) continue;
    if (s.group.transport == Transport::Udp) {
      if (now - s.last_io < rto) continue;
      if (s.tries >= plan_.udp_tries) {
        fail(s, FailureKind::Timeout, {});
        continue;
      }
      ++report_.udp_retransmissions;
      send_udp(s, true);
    } else if (now - s.last_io >= tcp_limit) {
      fail(s, FailureKind::Timeout, {});
    }
  }
}

RunReport Worker::run() {
  for (size_t k = slots_.size(); k-- > 0;) free_.push_back(k);
  launch_free_slots();
  std::array<epoll_event, 256> events{};
  auto last_sweep = Clock::now();
  while (active_ > 0) {
    const int n = epoll_wait(epfd_, events.data(), static_cast<int>(events.size()), 5);
    if (n < 0 && errno != EINTR) throw std::runtime_error(std::string("epoll_wait: ") + std::strerror(errno));
    for (int k = 0; k < n; ++k) {
      auto& s = slots_[events[k].data.u64];
      if (s.fd < 0) continue;
      if (s.group.transport == Transport::Udp) on_udp_readable(s);
      else on_tcp_event(s, events[k].events);
    }
    if (Clock::now() - last_sweep >= kSweepEvery) {
      sweep();
      last_sweep = Clock::now();
    }
    launch_free_slots();
  }
  report_.seconds = std::chrono::duration<double>(last_finish_ - first_start_).count();
  return std::move(report_);
}

}  // namespace

ClientSpec client_spec(const LoadPlan& plan, size_t i) {
  const size_t n = plan.first_index + i;
  const size_t t = plan.transports.size(), a = plan.auths.size(), h = plan.host_types.size();
  ClientSpec spec;
  spec.transport = plan.transports[i % t];
  spec.auth = plan.auths[(i / t) % a];
  spec.host_type = spec.auth == AuthKind::Anonymous ? HostType::Host : plan.host_types[(i / t / a) % h];
  spec.tunnel_type = plan.tunnel_type;
  spec.prefix_length = plan.prefix_length;
  const Ipv4Addr source{plan.source_base.value + static_cast<uint32_t>(n)};
  spec.declared_ipv4 =
      plan.behind_nat ? Ipv4Addr{0x0a000000u + static_cast<uint32_t>(n % 0x1000000u)}.to_string() : source.to_string();
  if (spec.auth != AuthKind::Anonymous) {
    spec.user = plan.user_prefix + std::to_string(n);
    spec.password = plan.password;
  }
  spec.digest_uri_host = plan.server.to_string() + ":" + std::to_string(plan.port);
  spec.cnonce = std::to_string(n + 1);
  spec.tcp_finish = plan.tcp_finish;
  return spec;
}

GroupKey group_of(const ClientSpec& spec) { return GroupKey{spec.transport, spec.auth, spec.host_type}; }

RunReport run_load(const LoadPlan& plan) {
  if (plan.transports.empty() || plan.auths.empty() || plan.host_types.empty())
    throw std::invalid_argument("the mix needs at least one transport, one auth and one host type");
  const unsigned threads = std::max(1u, plan.threads);
  const size_t per_thread = std::max<size_t>(1, plan.concurrency / threads);
  std::vector<RunReport> reports(threads);
  std::vector<std::unique_ptr<Worker>> workers;
  for (unsigned t = 0; t < threads; ++t) workers.push_back(std::make_unique<Worker>(plan, t, threads, per_thread));
  if (threads == 1) {
    reports[0] = workers[0]->run();
  } else {
    std::vector<std::thread> pool;
    std::vector<std::exception_ptr> errors(threads);
    for (unsigned t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        try {
          reports[t] = workers[t]->run();
        } catch (...) {
          errors[t] = std::current_exception();
        }
      });
    for (auto& th : pool) th.join();
    for (auto& e : errors)
      if (e) std::rethrow_exception(e);
  }
  RunReport out;
  for (const auto& r : reports) out.merge(r);
  return out;
}

}  // namespace tsp::load
