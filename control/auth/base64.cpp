#include "control/auth/base64.hpp"

#include <array>
#include <cstdint>

namespace tsp::auth {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr int8_t kInvalid = -1;

constexpr std::array<int8_t, 256> make_decode_table() {
  std::array<int8_t, 256> table{};
  for (auto& v : table) v = kInvalid;
  for (int i = 0; i < 64; ++i) table[static_cast<uint8_t>(kAlphabet[i])] = static_cast<int8_t>(i);
  return table;
}
constexpr auto kDecodeTable = make_decode_table();

// The wire appends "\r\n" and gogoc's C strings add a NUL; neither belongs to the data.
std::string_view strip_line_end(std::string_view text) {
  if (text.ends_with('\0')) text.remove_suffix(1);
  if (text.ends_with("\r\n"))
    text.remove_suffix(2);
  else if (text.ends_with('\n'))
    text.remove_suffix(1);
  return text;
}

}  // namespace

std::string base64_encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const uint32_t n = static_cast<uint32_t>(static_cast<uint8_t>(data[i])) << 16 |
                       static_cast<uint32_t>(static_cast<uint8_t>(data[i + 1])) << 8 |
                       static_cast<uint8_t>(data[i + 2]);
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(kAlphabet[(n >> 6) & 63]);
    out.push_back(kAlphabet[n & 63]);
  }
  const size_t rest = data.size() - i;
  if (rest > 0) {
    uint32_t n = static_cast<uint32_t>(static_cast<uint8_t>(data[i])) << 16;
    if (rest == 2) n |= static_cast<uint32_t>(static_cast<uint8_t>(data[i + 1])) << 8;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() > kMaxBase64Input) return std::nullopt;
  text = strip_line_end(text);
  if (text.size() % 4 != 0) return std::nullopt;

  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last_group = i + 4 == text.size();
    // Padding may only close the final group: "xx==" or "xxx=".
    size_t padding = 0;
    if (last_group && text[i + 3] == '=') padding = text[i + 2] == '=' ? 2 : 1;

    uint32_t n = 0;
    for (size_t k = 0; k < 4 - padding; ++k) {
      const int8_t v = kDecodeTable[static_cast<uint8_t>(text[i + k])];
      if (v == kInvalid) return std::nullopt;
      n |= static_cast<uint32_t>(v) << (18 - 6 * k);
    }
    out.push_back(static_cast<char>(n >> 16));
    if (padding == 2) {
      if ((n & 0xffff) != 0) return std::nullopt;  // non-canonical: stray bits
    } else {
      out.push_back(static_cast<char>(n >> 8));
      if (padding == 1) {
        if ((n & 0xff) != 0) return std::nullopt;
      } else {
        out.push_back(static_cast<char>(n));
      }
    }
  }
  return out;
}

}  // namespace tsp::auth
