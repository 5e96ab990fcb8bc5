#include "tools/tunnel/relay_loop.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <system_error>

namespace tsp::tunnel {
namespace {

// Packets taken from one descriptor before the other gets its turn.
constexpr int kBurst = 64;
// Room for an IPv4 header (with options) in front of the largest IPv6 packet.
constexpr size_t kBufferSize = kMaxPacketSize + 60;

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

void set_nonblocking(int fd, const char* what) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)
    throw_errno(std::string("O_NONBLOCK on the ") + what);
}

}  // namespace

RelayLoop::RelayLoop(int tun_fd, TunnelSocket& tunnel, RelayOptions options)
    : tun_fd_(tun_fd), tunnel_(tunnel), options_(std::move(options)), buffer_(kBufferSize) {
  set_nonblocking(tun_fd_, "TUN device");
  set_nonblocking(tunnel_.fd(), "tunnel socket");
  if (options_.keepalive) {
    const KeepaliveSettings& k = *options_.keepalive;
    if (k.interval.count() <= 0 || k.unanswered_retry.count() <= 0)
      throw std::invalid_argument("keepalive intervals must be positive (leave keepalive unset for none)");
    pinger_.emplace(k.client, k.server, k.identifier);
  }
}

RelayExit RelayLoop::run(const std::atomic<bool>& stop) {
  next_keepalive_ = std::chrono::steady_clock::now();
  last_sign_of_life_ = next_keepalive_;
  while (!stop.load(std::memory_order_relaxed)) {
    const auto now = std::chrono::steady_clock::now();
    if (keepalive_timed_out(now)) {
      counters_.socket_drops = socket_drops(tunnel_.fd());
      return RelayExit::keepalive_timeout;
    }
    send_keepalive_if_due(now);
    pollfd fds[2] = {{tun_fd_, POLLIN, 0}, {tunnel_.fd(), POLLIN, 0}};
    auto timeout = options_.tick;
    if (pinger_) {
      const auto until_keepalive = std::chrono::ceil<std::chrono::milliseconds>(next_keepalive_ - std::chrono::steady_clock::now());
      timeout = std::clamp(until_keepalive, std::chrono::milliseconds(0), timeout);
    }
    const int n = ::poll(fds, 2, static_cast<int>(timeout.count()));
    if (n < 0) {
      if (errno == EINTR) continue;  // a signal: look at the stop flag
      throw_errno("poll");
    }
    if (fds[0].revents & (POLLERR | POLLNVAL)) throw std::system_error(EIO, std::generic_category(), "TUN device failed");
    if (fds[0].revents & (POLLIN | POLLHUP)) drain_tun();
    if (fds[1].revents & (POLLIN | POLLERR)) drain_tunnel();
  }
  counters_.socket_drops = socket_drops(tunnel_.fd());
  return RelayExit::stopped;
}

bool RelayLoop::keepalive_timed_out(std::chrono::steady_clock::time_point now) const {
  if (!pinger_ || options_.keepalive->max_missed == 0) return false;
  const KeepaliveSettings& k = *options_.keepalive;
  const auto allowed = std::chrono::duration_cast<std::chrono::milliseconds>(k.interval) * k.max_missed + k.reply_timeout;
  return now - last_sign_of_life_ > allowed;
}

void RelayLoop::send_keepalive_if_due(std::chrono::steady_clock::time_point now) {
  if (!pinger_ || now < next_keepalive_) return;
  const std::vector<uint8_t> request = pinger_->next_request(std::chrono::system_clock::now());
  ++counters_.keepalives_sent;
  if (!tunnel_.send_packet(request)) ++counters_.send_errors;
  const KeepaliveSettings& k = *options_.keepalive;
  const bool answered = counters_.keepalive_replies > 0;
  next_keepalive_ = now + (answered ? std::chrono::duration_cast<std::chrono::milliseconds>(k.interval)
                                    : std::min<std::chrono::milliseconds>(k.unanswered_retry, k.interval));
}

void RelayLoop::send_to_tunnel(Bytes packet) {
  if (!tunnel_.send_packet(packet)) {
    ++counters_.send_errors;
    return;
  }
  ++counters_.to_tunnel_packets;
  counters_.to_tunnel_bytes += packet.size();
}

void RelayLoop::drain_tun() {
  for (int i = 0; i < kBurst; ++i) {
    const ssize_t n = ::read(tun_fd_, buffer_.data(), buffer_.size());
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
      throw_errno("read from the TUN device");
    }
    if (n == 0) throw std::system_error(EPIPE, std::generic_category(), "the TUN device was closed");
    const Bytes packet(buffer_.data(), static_cast<size_t>(n));
    if (!is_complete_ipv6(packet)) {
      ++counters_.dropped_tun_not_ipv6;
    } else if (!is_routable_through_broker(packet)) {
      ++counters_.dropped_local_scope;
    } else {
      send_to_tunnel(packet);
    }
  }
}

void RelayLoop::drain_tunnel() {
  for (int i = 0; i < kBurst; ++i) {
    const InboundDatagram d = tunnel_.receive(buffer_);
    switch (d.kind) {
      case Inbound::would_block:
        counters_.socket_drops = socket_drops(tunnel_.fd());
        return;
      case Inbound::not_from_server:
        ++counters_.dropped_not_from_server;
        break;
      case Inbound::not_ipv6:
        ++counters_.dropped_not_ipv6;
        break;
      case Inbound::malformed:
        ++counters_.dropped_malformed;
        break;
      case Inbound::control:
        ++counters_.control_messages;
        break;
      case Inbound::transient_error:
        ++counters_.receive_errors;
        break;
      case Inbound::packet:
        if (pinger_ && pinger_->is_reply(d.packet)) {
          // Ours: the kernel has no socket waiting for it. The first answer ends the retries.
          last_sign_of_life_ = std::chrono::steady_clock::now();
          if (counters_.keepalive_replies++ == 0)
            next_keepalive_ = std::chrono::steady_clock::now() + options_.keepalive->interval;
          break;
        }
        if (::write(tun_fd_, d.packet.data(), d.packet.size()) == static_cast<ssize_t>(d.packet.size())) {
          ++counters_.from_tunnel_packets;
          counters_.from_tunnel_bytes += d.packet.size();
        } else {
          ++counters_.tun_write_errors;
        }
        break;
    }
  }
}

}  // namespace tsp::tunnel
