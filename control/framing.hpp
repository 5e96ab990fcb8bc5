// Message framing of TSP (tsp-protocol.md §1.4, §3.1).
//
// Before authentication completes, messages are single lines ("VERSION=2.0.2\r\n"). After it,
// both sides wrap messages as "Content-length: N\r\n" + N bytes. Client to server, N counts
// the XML; server to client, N counts everything after the first line (status line + XML).
// Over UDP one datagram is one message; over TCP the stream is cut here.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace tsp {

inline constexpr size_t kMaxLineLength = 4096;         // longest line message we accept
inline constexpr size_t kMaxContentLength = 16 * 1024;  // largest Content-length body we accept

// "Content-length: N\r\n" + body (N = body size).
std::string frame_content(std::string_view body);

// True when the message starts with the Content-length header (case-insensitive name, as some
// clients differ in case even though gogoc writes "Content-length").
bool has_content_length_header(std::string_view msg);

// A complete client message that starts with the Content-length header; returns the body or an
// error text (bad number, too large, body shorter or longer than N). Trailing NUL bytes after
// the body are tolerated (clients that send C strings).
std::variant<std::string_view, std::string> parse_content_framed(std::string_view msg);

// The message text without its line end and an optional trailing NUL
// ("AUTHENTICATE PLAIN\r\n\0" -> "AUTHENTICATE PLAIN").
std::string_view strip_line_end(std::string_view msg);

// Cuts a TCP byte stream into client messages.
class TcpMessageSplitter {
 public:
  void append(std::string_view bytes) { buffer_.append(bytes.data(), bytes.size()); }
  // Returns the next complete message (with its line end, or the whole Content-length frame),
  // nullopt if more bytes are needed. Sets error() and returns nullopt when the stream cannot be
  // valid (line too long, bad Content-length header): the session should answer and close.
  std::optional<std::string> next();
  const std::string& error() const { return error_; }
  size_t buffered() const { return buffer_.size(); }

 private:
  std::string buffer_;
  std::string error_;
  bool skip_nul_ = false;  // an AUTHENTICATE line may be followed by the client's C-string NUL
};

}  // namespace tsp
