#include "control/xml/xml_text.hpp"

#include <array>
#include <utility>

namespace tsp::xml::detail {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = lower(c);
  return out;
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::string decode_predefined_entities(std::string_view s) {
  static constexpr std::array<std::pair<std::string_view, char>, 5> kEntities{{
      {"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''}}};
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    bool replaced = false;
    if (s[i] == '&') {
      for (const auto& [entity, ch] : kEntities) {
        if (s.substr(i, entity.size()) == entity) {
          out.push_back(ch);
          i += entity.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out.push_back(s[i++]);
  }
  return out;
}

std::optional<uint32_t> parse_u32(std::string_view s) {
  s = trim(s);
  if (s.empty() || s.size() > 10) return std::nullopt;
  uint64_t value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (value > UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(value);
}

bool is_plain_xml_token(std::string_view s) {
  if (s.empty() || s.size() > 254) return false;
  for (char c : s) {
    if (c <= ' ' || c > '~') return false;  // controls, space, DEL and non-ASCII
    if (c == '<' || c == '>' || c == '&' || c == '"' || c == '\'') return false;
  }
  return true;
}

void XmlLines::line(unsigned indent, std::string_view text) {
  out_.append(indent, ' ');
  out_.append(text);
  out_.append("\r\n");
}

void XmlLines::address(unsigned indent, std::string_view type, std::string_view value) {
  std::string text;
  text.reserve(40 + type.size() + value.size());
  text.append("<address type=\"").append(type).append("\">").append(value).append("</address>");
  line(indent, text);
}

}  // namespace tsp::xml::detail
