// Small text helpers for reading and writing TSP XML (internal header).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tsp::xml::detail {

std::string_view trim(std::string_view s);
std::string to_lower(std::string_view s);
bool equals_ignore_case(std::string_view a, std::string_view b);
// Replaces &lt; &gt; &amp; &quot; &apos; and nothing else: numeric references and other
// entities stay as literal text, so they can never smuggle in characters.
std::string decode_predefined_entities(std::string_view s);
// Plain decimal digits (surrounding whitespace allowed) that fit in 32 bits.
std::optional<uint32_t> parse_u32(std::string_view s);

// True for text that can go between tags or quotes as is for gogoc's parser, which knows no
// entities and keeps whitespace: 1..254 printable ASCII characters, none of <>&"' or space.
bool is_plain_xml_token(std::string_view s);

// Builds gogoc-style XML: every line is `indent` spaces, the text and CRLF.
class XmlLines {
 public:
  void line(unsigned indent, std::string_view text);
  // <address type="TYPE">VALUE</address>
  void address(unsigned indent, std::string_view type, std::string_view value);
  const std::string& str() const { return out_; }

 private:
  std::string out_;
};

}  // namespace tsp::xml::detail
