#include "tools/tspc/reply_parser.hpp"

#include <cctype>

namespace tsp::tspc {
namespace {

constexpr std::string_view kContentLength = "Content-length:";
constexpr size_t kMaxFramedBody = 16 * 1024;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

void note_token(std::string_view token, Capabilities& c) {
  const size_t eq = token.find('=');
  if (eq == std::string_view::npos) return;
  const std::string_view key = token.substr(0, eq), value = token.substr(eq + 1);
  if (key == "TUNNEL") {
    if (value == "V6V4") c.v6v4 = true;
    if (value == "V6UDPV4") c.v6udpv4 = true;
    if (value == "V4V6") c.v4v6 = true;
  } else if (key == "AUTH") {
    if (iequals(value, "PASSDSS-3DES-1")) c.passdss = true;
    if (iequals(value, "SCRAM-SHA-256")) c.scram_sha256 = true;
    if (iequals(value, "DIGEST-MD5")) c.digest_md5 = true;
    if (iequals(value, "PLAIN")) c.plain = true;
    if (iequals(value, "ANONYMOUS")) c.anonymous = true;
  }
}

}  // namespace

std::optional<int> leading_status_code(std::string_view reply) {
  int code = 0;
  size_t digits = 0;
  while (digits < reply.size() && digits < 9 && std::isdigit(static_cast<unsigned char>(reply[digits]))) {
    code = code * 10 + (reply[digits] - '0');
    ++digits;
  }
  if (digits == 0) return std::nullopt;
  return code;
}

std::string first_line(std::string_view reply) {
  const size_t end = reply.find_first_of("\r\n");
  std::string line(reply.substr(0, std::min(end, size_t{200})));
  for (char& ch : line)
    if (!std::isprint(static_cast<unsigned char>(ch))) ch = '?';
  return line;
}

std::optional<Capabilities> parse_capability_line(std::string_view reply) {
  constexpr std::string_view kPrefix = "CAPABILITY ";
  if (reply.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  Capabilities c;
  std::string_view rest = reply.substr(kPrefix.size());
  while (!rest.empty()) {
    const size_t end = rest.find_first_of(std::string_view(" \r\n\0", 4));
    note_token(rest.substr(0, end), c);
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  return c;
}

std::string describe(const Capabilities& c) {
  std::string out;
  auto add = [&out](bool present, std::string_view token) {
    if (!present) return;
    if (!out.empty()) out += ' ';
    out += token;
  };
  add(c.v6v4, "TUNNEL=V6V4");
  add(c.v6udpv4, "TUNNEL=V6UDPV4");
  add(c.v4v6, "TUNNEL=V4V6");
  add(c.passdss, "AUTH=PASSDSS-3DES-1");
  add(c.scram_sha256, "AUTH=SCRAM-SHA-256");
  add(c.digest_md5, "AUTH=DIGEST-MD5");
  add(c.plain, "AUTH=PLAIN");
  add(c.anonymous, "AUTH=ANONYMOUS");
  return out.empty() ? "(nothing usable)" : out;
}

std::variant<size_t, FrameIncomplete, std::string> framed_reply_size(std::string_view reply) {
  if (reply.size() < kContentLength.size()) {
    if (kContentLength.substr(0, reply.size()) == reply) return FrameIncomplete{};
    return std::string("the reply does not start with \"Content-length:\"");
  }
  if (reply.substr(0, kContentLength.size()) != kContentLength)
    return std::string("the reply does not start with \"Content-length:\"");
  const size_t lf = reply.find('\n');
  if (lf == std::string_view::npos) {
    if (reply.size() > 64) return std::string("Content-length header line too long");
    return FrameIncomplete{};
  }
  std::string_view number = reply.substr(kContentLength.size(), lf - kContentLength.size());
  while (!number.empty() && (number.front() == ' ' || number.front() == '\t')) number.remove_prefix(1);
  while (!number.empty() && (number.back() == '\r' || number.back() == ' ')) number.remove_suffix(1);
  if (number.empty() || number.size() > 6) return std::string("bad Content-length value");
  size_t length = 0;
  for (char ch : number) {
    if (!std::isdigit(static_cast<unsigned char>(ch))) return std::string("bad Content-length value");
    length = length * 10 + static_cast<size_t>(ch - '0');
  }
  if (length > kMaxFramedBody) return std::string("Content-length " + std::to_string(length) + " is too large");
  return lf + 1 + length;
}

FrameParse parse_framed_reply(std::string_view reply) {
  const auto header = framed_reply_size(reply);
  if (const auto* error = std::get_if<std::string>(&header)) return *error;
  if (const auto* incomplete = std::get_if<FrameIncomplete>(&header)) return *incomplete;
  const size_t total = std::get<size_t>(header);
  const size_t lf = reply.find('\n');
  const size_t length = total - lf - 1;
  std::string_view body = reply.substr(lf + 1);
  if (body.size() < length) return FrameIncomplete{total};
  std::string_view extra = body.substr(length);
  if (!(extra.empty() || extra == std::string_view("\0", 1)))
    return std::string("the reply is longer than its Content-length (" + std::to_string(length) + ")");
  body = body.substr(0, length);

  FramedReply out;
  const auto code = leading_status_code(body);
  if (!code) return std::string("the framed reply has no status code");
  out.status = *code;
  out.status_line = first_line(body);
  const size_t body_lf = body.find('\n');
  if (body_lf != std::string_view::npos) {
    const size_t lt = body.find('<', body_lf + 1);
    if (lt != std::string_view::npos) out.xml = std::string(body.substr(lt));
  }
  return out;
}

}  // namespace tsp::tspc
