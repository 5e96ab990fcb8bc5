#include "control/xml/safe_xml.hpp"

#include "control/xml/xml_text.hpp"

namespace tsp::xml::detail {

namespace {

// No entity translation at all inside RapidXML: it would also expand numeric references
// (&#0; included). The five predefined entities are decoded later, per value we use.
constexpr int kParseFlags = rapidxml::parse_no_entity_translation | rapidxml::parse_validate_closing_tags;

// Spare NULs after the terminator: RapidXML peeks a few bytes ahead when matching
// "<![CDATA[" and the like; they stop at the first NUL, the padding is a second fence.
constexpr size_t kPadding = 16;

std::optional<std::string> refuse_declarations(std::string_view text) {
  for (size_t at = text.find("<!"); at != std::string_view::npos; at = text.find("<!", at + 2)) {
    const auto rest = text.substr(at + 2);
    if (rest.substr(0, 2) == "--") continue;  // a comment, which RapidXML skips
    const auto word = rest.substr(0, 7);
    if (equals_ignore_case(word, "DOCTYPE") || equals_ignore_case(word.substr(0, 6), "ENTITY"))
      return "DOCTYPE/ENTITY declarations are refused (byte " + std::to_string(at) + ")";
    // CDATA and unknown <!...> would otherwise be accepted or skipped silently.
    return "markup declaration '<!' not allowed (byte " + std::to_string(at) + ")";
  }
  return std::nullopt;
}

bool deeper_than(const Node& n, unsigned depth, unsigned max_depth) {
  if (depth > max_depth) return true;
  for (auto* c = first_element(n); c; c = next_element(*c))
    if (deeper_than(*c, depth + 1, max_depth)) return true;
  return false;
}

}  // namespace

std::variant<XmlTree, std::string> parse_xml(std::string_view text, const XmlLimits& limits) {
  if (text.size() > limits.max_bytes)
    return "XML body too large: " + std::to_string(text.size()) + " bytes (limit " +
           std::to_string(limits.max_bytes) + ")";
  // A C-string terminator after the body is harmless (gogoc adds one to some lines); one
  // inside would make RapidXML stop early and ignore the rest.
  while (!text.empty() && text.back() == '\0') text.remove_suffix(1);
  if (const auto nul = text.find('\0'); nul != std::string_view::npos)
    return "NUL byte inside the XML body (byte " + std::to_string(nul) + ")";
  if (trim(text).empty()) return "not XML: empty body";

  size_t markup = 0;
  for (char c : text) markup += (c == '<');
  if (markup > limits.max_markup)
    return "too many elements: " + std::to_string(markup) + " tags (limit " + std::to_string(limits.max_markup) +
           ")";
  if (auto refused = refuse_declarations(text)) return *refused;

  std::vector<char> buffer(text.begin(), text.end());
  buffer.resize(text.size() + kPadding, '\0');
  // The document holds a 64 KiB memory pool: keep it off the stack.
  auto doc = std::make_unique<rapidxml::xml_document<char>>();
  try {
    doc->parse<kParseFlags>(buffer.data());
  } catch (const rapidxml::parse_error& e) {
    std::string msg = std::string("not XML: ") + e.what();
    const char* where = e.where<char>();
    if (where >= buffer.data() && where < buffer.data() + buffer.size())
      msg += " at byte " + std::to_string(where - buffer.data());
    return msg;
  }

  const Node* root = first_element(*doc);
  if (!root) return "not XML: no root element";
  if (next_element(*root)) return "not XML: more than one root element";
  if (deeper_than(*root, 1, limits.max_depth))
    return "elements nested deeper than " + std::to_string(limits.max_depth) + " levels";
  return XmlTree(std::move(buffer), std::move(doc), root);
}

std::string_view name_of(const Node& n) { return {n.name(), n.name_size()}; }

const Node* first_element(const Node& parent) {
  for (auto* c = parent.first_node(); c; c = c->next_sibling())
    if (c->type() == rapidxml::node_element) return c;
  return nullptr;
}

const Node* next_element(const Node& sibling) {
  for (auto* c = sibling.next_sibling(); c; c = c->next_sibling())
    if (c->type() == rapidxml::node_element) return c;
  return nullptr;
}

std::optional<std::string> attribute(const Node& n, std::string_view name) {
  for (auto* a = n.first_attribute(); a; a = a->next_attribute()) {
    if (std::string_view(a->name(), a->name_size()) == name)
      return decode_predefined_entities(trim({a->value(), a->value_size()}));
  }
  return std::nullopt;
}

std::string text_of(const Node& n) { return decode_predefined_entities(trim({n.value(), n.value_size()})); }

}  // namespace tsp::xml::detail
