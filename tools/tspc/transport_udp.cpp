// TSP over reliable UDP (tsp-protocol.md §1.2, §1.3): every message carries the 8-byte header;
// the answer is the datagram that echoes our sequence word; retransmissions reuse the word
// with a fresh timestamp, timed by RetransmitSchedule.
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "control/rudp.hpp"
#include "tools/tspc/control_transport.hpp"
#include "tools/tspc/rudp_schedule.hpp"

namespace tsp::tspc {
namespace {

constexpr size_t kReceiveBuffer = 4096;  // gogoc's; a reply must fit one datagram

class UdpTransport final : public ControlTransport {
 public:
  explicit UdpTransport(const TransportSettings& settings)
      : settings_(settings),
        fd_(connect_socket(SOCK_DGRAM, settings)),
        sequencer_(std::chrono::system_clock::now()) {}

  std::string exchange(std::string_view payload) override {
    const uint32_t word = sequencer_.next_sequence_word();
    schedule_.start_message();
    for (;;) {
      const Millis wait = schedule_.next_wait();
      if (wait.count() == 0) {
        throw TransportError(TransportError::Kind::NoAnswer,
                             "no answer from " + endpoint_text(settings_) + " over UDP after " +
                                 std::to_string(schedule_.transmissions()) + " transmissions");
      }
      const auto sent_at = std::chrono::steady_clock::now();
      send_datagram(word, payload);
      log(3, "RUDP sent seq " + hex(word) + " (" + std::to_string(payload.size()) + " bytes, try " +
                 std::to_string(schedule_.transmissions()) + ", RTO " + std::to_string(wait.count()) + " ms)");
      if (auto reply = wait_reply(word, sent_at + wait)) {
        schedule_.on_answer(std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - sent_at));
        return *reply;
      }
      schedule_.on_timeout();
    }
  }

  void send_unanswered(std::string_view payload) override { (void)exchange(payload); }
  std::string receive_next() override { return exchange(""); }
  bool is_udp() const override { return true; }
  Ipv4Addr local_address() const override { return socket_local_address(fd_.get()); }
  tunnel::UniqueFd release_socket() override { return std::move(fd_); }

 private:
  static std::string hex(uint32_t v) {
    char text[12];
    std::snprintf(text, sizeof text, "%08X", v);
    return text;
  }

  void log(int level, const std::string& text) const {
    if (settings_.log) settings_.log(level, text);
  }

  [[noreturn]] void fail(int error, const std::string& what) const {
    const auto kind = error == ECONNREFUSED ? TransportError::Kind::Refused : TransportError::Kind::Io;
    throw TransportError(kind, what + " " + endpoint_text(settings_) + " over UDP: " + std::strerror(error));
  }

  void send_datagram(uint32_t word, std::string_view payload) {
    const RudpHeader header = RudpHeader::make(word, sequencer_.timestamp(std::chrono::system_clock::now()));
    std::string datagram(header.raw.begin(), header.raw.end());
    datagram.append(payload.data(), payload.size());
    for (;;) {
      const ssize_t n = ::send(fd_.get(), datagram.data(), datagram.size(), 0);
      if (n == static_cast<ssize_t>(datagram.size())) return;
      if (n < 0 && errno == EINTR) continue;
      fail(n < 0 ? errno : EMSGSIZE, "send to");
    }
  }

  // The payload of the datagram echoing `word`, or nullopt at `deadline`. Other datagrams are
  // ignored, as gogoc ignores them (a late answer to an earlier try, stray data).
  std::optional<std::string> wait_reply(uint32_t word, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
      const auto left = std::chrono::ceil<Millis>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{fd_.get(), POLLIN, 0};
      const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
      if (ready < 0) {
        if (errno == EINTR) continue;
        fail(errno, "poll for");
      }
      if (ready == 0) return std::nullopt;
      char buffer[kReceiveBuffer];
      const ssize_t n = ::recv(fd_.get(), buffer, sizeof buffer, MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
        fail(errno, "receive from");
      }
      const auto datagram = parse_rudp(std::string_view(buffer, static_cast<size_t>(n)));
      if (!datagram || datagram->header.sequence_word() != word) {
        log(3, "RUDP ignored a datagram of " + std::to_string(n) + " bytes that does not answer seq " + hex(word));
        continue;
      }
      log(3, "RUDP answer to seq " + hex(word) + " (" + std::to_string(datagram->payload.size()) + " bytes)");
      return std::string(datagram->payload);
    }
  }

  TransportSettings settings_;
  tunnel::UniqueFd fd_;
  RudpSequencer sequencer_;
  RetransmitSchedule schedule_;
};

}  // namespace

std::unique_ptr<ControlTransport> open_udp_transport(const TransportSettings& settings) {
  return std::make_unique<UdpTransport>(settings);
}

}  // namespace tsp::tspc
