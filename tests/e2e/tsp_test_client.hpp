// A TSP client that behaves on the wire as the legacy gogoc 1.2 client does
// (tsp-protocol.md §1): over UDP the 8-byte RUDP header with gogoc's sequence (first word
// F0 00 00 F0, +1 per new request, same word on a retransmission) and millisecond timestamp;
// over TCP one send loop per message and one recv() per read.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tsp::e2e {

using Millis = std::chrono::milliseconds;

// A loopback broker answers in milliseconds; the margin is for ASan builds on a loaded machine.
inline constexpr Millis kReplyTimeout{5000};
// How long we listen to conclude that the daemon chose to stay silent.
inline constexpr Millis kSilenceWindow{300};
// gogoc's receive buffer (REDIRECT_RECEIVE_BUFFER_SIZE).
inline constexpr size_t kClientBufferSize = 4096;

using RudpHeaderBytes = std::array<uint8_t, 8>;

struct RudpReply {
  RudpHeaderBytes header{};
  std::string payload;

  uint32_t sequence_word() const;
  uint32_t timestamp() const;
};

std::string hex_dump(std::string_view bytes, size_t max_bytes = 96);

// A loopback source address (127.0.x.y) not handed out before in this process. The broker
// keys a proto-41 tunnel by the client's IPv4 address alone, so clients that hold v6v4
// tunnels at the same time need addresses of their own, as real hosts have.
std::string unique_loopback_source();

class RudpClient {
 public:
  // A connected UDP socket to 127.0.0.1:server_port; `local_address` picks the source address
  // (127.0.0.2 simulates a client whose public IPv4 changed).
  explicit RudpClient(uint16_t server_port, const std::string& local_address = "127.0.0.1");
  ~RudpClient();
  RudpClient(const RudpClient&) = delete;
  RudpClient& operator=(const RudpClient&) = delete;

  // Sends `payload` as a new request: the next sequence word and a fresh timestamp.
  void send(std::string_view payload);
  // Sends the last request again with the same sequence word and a new timestamp.
  void retransmit();
  // Waits for the reply to the last request. Datagrams carrying another sequence word are
  // ignored as gogoc ignores them, but kept in stray_datagrams() for the tests to inspect.
  std::optional<RudpReply> wait_reply(Millis timeout = kReplyTimeout);
  // send() + wait_reply(); fails the test when no reply comes.
  RudpReply request(std::string_view payload, Millis timeout = kReplyTimeout);
  // Bytes exactly as given, no header (bad-input tests).
  void send_raw(std::string_view datagram);
  // The next datagram of any kind, or nullopt after `timeout`.
  std::optional<std::string> receive_any(Millis timeout);

  const RudpHeaderBytes& last_header() const { return last_header_; }
  uint32_t last_sequence_word() const;
  const std::vector<std::string>& stray_datagrams() const { return stray_; }
  int fd() const { return fd_; }

 private:
  uint32_t timestamp_now() const;
  void send_with_header(uint32_t sequence_word, uint32_t timestamp);

  int fd_ = -1;
  uint32_t counter_ = 0xF0;  // gogoc's start value; the word on the wire is 0xF0000000 | counter
  bool sent_any_ = false;
  std::chrono::system_clock::time_point epoch_;  // the whole second the engine started in
  RudpHeaderBytes last_header_{};
  std::string last_payload_;
  std::vector<std::string> stray_;
};

struct TcpRead {
  enum class Kind { Data, Timeout, Closed };
  Kind kind = Kind::Timeout;
  std::string data;
};

class TcpClient {
 public:
  explicit TcpClient(uint16_t server_port, const std::string& local_address = "127.0.0.1");
  ~TcpClient();
  TcpClient(const TcpClient&) = delete;
  TcpClient& operator=(const TcpClient&) = delete;

  // gogoc's send loop; fails the test if the connection breaks.
  void send(std::string_view bytes);
  // Like send() but reports a peer that closed or reset instead of failing; gives up after
  // `timeout` if the peer stops reading.
  bool try_send(std::string_view bytes, Millis timeout);
  // One recv() of at most kClientBufferSize bytes, as gogoc's NetTCPRead does.
  TcpRead recv_once(Millis timeout = kReplyTimeout);
  // recv_once() that fails the test unless data came.
  std::string read_reply(Millis timeout = kReplyTimeout);
  // Reads and discards until the peer closes (true) or `timeout` passes (false).
  bool wait_closed_by_peer(Millis timeout);
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

}  // namespace tsp::e2e
