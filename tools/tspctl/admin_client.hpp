// tspctl's end of the admin socket: one request line out, one reply line back.
#pragma once

#include <string>

namespace tsp::tspctl {

struct Exchange {
  enum class Outcome {
    Replied,           // `reply` holds the line (without its newline)
    NotListening,      // no socket file, or nobody accepts on it
    PermissionDenied,  // the file's mode keeps us out
    Failed,            // anything else; `error` says what
  };
  Outcome outcome = Outcome::Failed;
  std::string reply;
  std::string error;
};

// Replies longer than this are refused (100k tunnels take about 30 MB).
inline constexpr size_t kMaxReplyBytes = 1u << 30;

Exchange send_request(const std::string& socket_path, const std::string& request_line);

}  // namespace tsp::tspctl
