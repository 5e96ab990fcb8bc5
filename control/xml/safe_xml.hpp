// Hardened RapidXML front end shared by the request and offer parsers (internal header).
// RapidXML is fast but trusts its input: it needs a NUL-terminated writable copy, recurses once
// per nesting level and silently skips unknown <!...> declarations. This wrapper bounds all of
// that before RapidXML sees a byte, and turns its exceptions into error texts.
#pragma once

#ifdef RAPIDXML_NO_EXCEPTIONS
#error "tsp_xml relies on rapidxml::parse_error exceptions; do not define RAPIDXML_NO_EXCEPTIONS"
#endif

#include <rapidxml/rapidxml.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tsp::xml::detail {

using Node = rapidxml::xml_node<char>;

struct XmlLimits {
  size_t max_bytes;
  size_t max_markup;   // '<' characters: bounds element count and RapidXML's recursion
  unsigned max_depth;  // element nesting below and including the root
};

// A parsed document; owns the buffer that RapidXML's nodes point into.
class XmlTree {
 public:
  XmlTree(std::vector<char> buffer, std::unique_ptr<rapidxml::xml_document<char>> doc, const Node* root)
      : buffer_(std::move(buffer)), doc_(std::move(doc)), root_(root) {}
  const Node& root() const { return *root_; }

 private:
  std::vector<char> buffer_;
  std::unique_ptr<rapidxml::xml_document<char>> doc_;
  const Node* root_;
};

// Error texts start with what went wrong ("not XML: expected > at byte 12").
std::variant<XmlTree, std::string> parse_xml(std::string_view text, const XmlLimits& limits);

std::string_view name_of(const Node& n);
// Element children only (data, comments and the like are skipped).
const Node* first_element(const Node& parent);
const Node* next_element(const Node& sibling);
// Attribute value with the five predefined entities decoded, trimmed; nullopt if absent.
std::optional<std::string> attribute(const Node& n, std::string_view name);
// Element text with the five predefined entities decoded, trimmed.
std::string text_of(const Node& n);

}  // namespace tsp::xml::detail
