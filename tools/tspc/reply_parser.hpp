// Reading what a broker answers (tsp-protocol.md §1.7, §3.1, §4): the leading status code of a
// line, the CAPABILITY line, and Content-length framed replies. Input comes off the network:
// every function accepts any bytes and says what is wrong instead of trusting them.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace tsp::tspc {

// The status code gogoc reads with atoi(): leading decimal digits (at most 9). nullopt when
// the reply does not start with a digit.
std::optional<int> leading_status_code(std::string_view reply);

// The status line without its line end, for messages ("300 Authentication failed").
std::string first_line(std::string_view reply);

struct Capabilities {
  bool v6v4 = false, v6udpv4 = false, v4v6 = false;
  bool passdss = false, scram_sha256 = false, digest_md5 = false, plain = false, anonymous = false;
};

// "CAPABILITY TUNNEL=V6V4 ... AUTH=PLAIN\r\n". Like gogoc: the reply must start with exactly
// "CAPABILITY " (else nullopt: it is a status); tokens split on space/CR/LF/NUL; TUNNEL values
// are case-sensitive, AUTH values case-insensitive; unknown tokens are ignored.
std::optional<Capabilities> parse_capability_line(std::string_view reply);
std::string describe(const Capabilities& c);  // "TUNNEL=V6V4 AUTH=PLAIN ..." for the log

// A reply framed as "Content-length: N\r\n" + N bytes (status line + XML).
struct FramedReply {
  int status = 0;
  std::string status_line;  // without line end
  std::string xml;          // from the first '<' after the status line; may be empty
};
struct FrameIncomplete {
  size_t total_size = 0;  // the whole reply needs this many bytes (0: header line not complete)
};
using FrameParse = std::variant<FramedReply, FrameIncomplete, std::string /* error */>;

// Header must start with "Content-length:" exactly as gogoc checks it; N decimal, at most
// 16 KiB; more bytes than N is an error (a trailing NUL is tolerated), fewer is incomplete.
FrameParse parse_framed_reply(std::string_view reply);

// For a stream reader: the size of the whole framed reply once its header line is complete
// (FrameIncomplete{0} before that), or the header's error.
std::variant<size_t, FrameIncomplete, std::string> framed_reply_size(std::string_view reply);

}  // namespace tsp::tspc
