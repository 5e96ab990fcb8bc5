#include "tests/e2e/gogoc_digest_md5.hpp"

#include <openssl/evp.h>

#include <array>
#include <stdexcept>
#include <vector>

namespace tsp::e2e {
namespace {

std::string md5_raw(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_md5(), nullptr) != 1 || len != 16)
    throw std::runtime_error("EVP_Digest(MD5) failed");
  return std::string(reinterpret_cast<const char*>(md.data()), len);
}

std::string to_hex(std::string_view raw) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : raw) {
    const auto b = static_cast<unsigned char>(c);
    out += kHex[b >> 4];
    out += kHex[b & 0xF];
  }
  return out;
}

std::string md5_hex(std::string_view data) { return to_hex(md5_raw(data)); }

// gogoc writes the user name into a quoted string, escaping '"' and '\'.
std::string quoted_escaped(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.empty()) return std::string();
  if (text.size() % 4 != 0) return std::nullopt;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool alphabet = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
                          c == '/';
    const bool padding = c == '=' && i >= text.size() - 2 && (i == text.size() - 1 || text.back() == '=');
    if (!alphabet && !padding) return std::nullopt;
  }
  std::vector<unsigned char> out(text.size() / 4 * 3);
  const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  size_t len = static_cast<size_t>(n);
  if (text.back() == '=') --len;  // EVP_DecodeBlock counts padding as zero bytes
  if (text[text.size() - 2] == '=') --len;
  return std::string(reinterpret_cast<const char*>(out.data()), len);
}

std::optional<DigestChallenge> parse_digest_challenge(std::string_view decoded) {
  DigestChallenge c;
  size_t start = 0;
  while (start <= decoded.size()) {
    size_t comma = decoded.find(',', start);
    if (comma == std::string_view::npos) comma = decoded.size();
    const std::string_view item = decoded.substr(start, comma - start);
    start = comma + 1;
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view key = item.substr(0, eq);
    std::string_view value = item.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    if (key == "realm") c.realm = value;
    if (key == "nonce") c.nonce = value;
    if (key == "qop") c.qop = value;
    if (key == "algorithm") c.algorithm = value;
    if (key == "charset") c.charset = value;
  }
  if (c.realm.empty() || c.nonce.empty() || c.qop.empty() || c.charset.empty()) return std::nullopt;
  return c;
}

DigestClientAnswer digest_md5_answer(const DigestChallenge& challenge, std::string_view user,
                                     std::string_view password, std::string_view digest_uri_host,
                                     std::string_view cnonce) {
  return digest_md5_answer_for_uri(challenge, user, password, "tsp/" + std::string(digest_uri_host), cnonce);
}

DigestClientAnswer digest_md5_answer_for_uri(const DigestChallenge& challenge, std::string_view user,
                                             std::string_view password, const std::string& digest_uri,
                                             std::string_view cnonce) {
  static constexpr std::string_view kNc = "00000001";  // gogoc always sends the first count
  const std::string urp = md5_raw(std::string(user) + ":" + challenge.realm + ":" + std::string(password));
  const std::string ha1 = md5_hex(urp + ":" + challenge.nonce + ":" + std::string(cnonce));
  const std::string tail = ":" + challenge.nonce + ":" + std::string(kNc) + ":" + std::string(cnonce) + ":" +
                           challenge.qop + ":";
  const std::string response = md5_hex(ha1 + tail + md5_hex("AUTHENTICATE:" + digest_uri));
  const std::string rspauth = md5_hex(ha1 + tail + md5_hex(":" + digest_uri));

  DigestClientAnswer answer;
  answer.response_text = "charset=" + challenge.charset + ",username=\"" + quoted_escaped(user) + "\",realm=\"" +
                         challenge.realm + "\",nonce=\"" + challenge.nonce + "\",nc=" + std::string(kNc) +
                         ",cnonce=\"" + std::string(cnonce) + "\",digest-uri=\"" + digest_uri +
                         "\",response=" + response + ",qop=auth";
  answer.expected_rspauth = "rspauth=" + rspauth;
  return answer;
}

}  // namespace tsp::e2e
