#include "control/framing.hpp"

#include <cctype>
#include <charconv>

namespace tsp {

namespace {
constexpr std::string_view kHeaderName = "content-length:";

bool iequals_prefix(std::string_view text, std::string_view lower_prefix) {
  if (text.size() < lower_prefix.size()) return false;
  for (size_t i = 0; i < lower_prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(text[i])) != lower_prefix[i]) return false;
  return true;
}

// Parses "Content-length: N" (without line end). Returns N or an error text.
std::variant<size_t, std::string> parse_header_value(std::string_view line) {
  auto value = line.substr(kHeaderName.size());
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  size_t n = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size())
    return std::string("Content-length is not a number");
  if (n > kMaxContentLength) return std::string("Content-length too large");
  return n;
}
}  // namespace

std::string frame_content(std::string_view body) {
  std::string out = "Content-length: " + std::to_string(body.size()) + "\r\n";
  out.append(body.data(), body.size());
  return out;
}

bool has_content_length_header(std::string_view msg) { return iequals_prefix(msg, kHeaderName); }

std::variant<std::string_view, std::string> parse_content_framed(std::string_view msg) {
  const auto lf = msg.find('\n');
  if (lf == std::string_view::npos) return std::string("Content-length header without line end");
  auto line = msg.substr(0, lf);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  auto n = parse_header_value(line);
  if (auto* err = std::get_if<std::string>(&n)) return *err;
  const size_t want = std::get<size_t>(n);
  auto body = msg.substr(lf + 1);
  if (body.size() < want) return std::string("body shorter than Content-length");
  auto extra = body.substr(want);
  for (char c : extra)
    if (c != '\0') return std::string("body longer than Content-length");
  return body.substr(0, want);
}

std::string_view strip_line_end(std::string_view msg) {
  while (!msg.empty() && msg.back() == '\0') msg.remove_suffix(1);
  if (!msg.empty() && msg.back() == '\n') msg.remove_suffix(1);
  if (!msg.empty() && msg.back() == '\r') msg.remove_suffix(1);
  return msg;
}

std::optional<std::string> TcpMessageSplitter::next() {
  if (!error_.empty()) return std::nullopt;
  if (skip_nul_ && !buffer_.empty()) {
    if (buffer_[0] == '\0') buffer_.erase(0, 1);
    skip_nul_ = false;
  }
  if (buffer_.empty()) return std::nullopt;
  const auto lf = buffer_.find('\n');
  if (lf == std::string::npos) {
    if (buffer_.size() > kMaxLineLength) error_ = "line too long";
    return std::nullopt;
  }
  if (lf > kMaxLineLength) {
    error_ = "line too long";
    return std::nullopt;
  }
  std::string_view first(buffer_.data(), lf);
  if (!first.empty() && first.back() == '\r') first.remove_suffix(1);
  size_t total = lf + 1;
  if (has_content_length_header(first)) {
    auto n = parse_header_value(first);
    if (auto* err = std::get_if<std::string>(&n)) {
      error_ = *err;
      return std::nullopt;
    }
    total += std::get<size_t>(n);
    if (buffer_.size() < total) return std::nullopt;
  } else if (first.substr(0, 12) == "AUTHENTICATE") {
    skip_nul_ = true;
  }
  std::string msg = buffer_.substr(0, total);
  buffer_.erase(0, total);
  if (skip_nul_ && !buffer_.empty()) {
    if (buffer_[0] == '\0') buffer_.erase(0, 1);
    skip_nul_ = false;
  }
  return msg;
}

}  // namespace tsp
