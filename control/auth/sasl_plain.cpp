#include "control/auth/sasl_plain.hpp"

#include <algorithm>

namespace tsp::auth {

namespace {

std::string_view strip_line_end(std::string_view blob) {
  if (blob.ends_with("\r\n"))
    blob.remove_suffix(2);
  else if (blob.ends_with(std::string_view("\r\n\0", 3)))
    blob.remove_suffix(3);
  return blob;
}

}  // namespace

std::optional<PlainMessage> parse_sasl_plain(std::string_view blob) {
  blob = strip_line_end(blob);
  if (blob.find_first_of("\r\n") != std::string_view::npos) return std::nullopt;

  const auto nuls = std::count(blob.begin(), blob.end(), '\0');
  if (nuls < 1 || nuls > 2) return std::nullopt;

  PlainMessage msg;
  if (nuls == 2) {
    const size_t end = blob.find('\0');
    msg.authzid = std::string(blob.substr(0, end));
    blob.remove_prefix(end + 1);
  }
  const size_t end = blob.find('\0');
  msg.authcid = std::string(blob.substr(0, end));
  msg.password = std::string(blob.substr(end + 1));

  if (msg.authcid.empty() || msg.password.empty()) return std::nullopt;
  if (msg.authcid.size() > kMaxPlainUser || msg.authzid.size() > kMaxPlainUser ||
      msg.password.size() > kMaxPlainPassword)
    return std::nullopt;
  return msg;
}

}  // namespace tsp::auth
