#include "control/auth/sasl_directives.hpp"

#include <string>

#include "control/auth/ascii.hpp"

namespace tsp::auth {

namespace {

bool is_ctl(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }
bool is_lws(char c) { return c == ' ' || c == '\t'; }

// RFC 2616 token: any CHAR except CTLs and separators (8-bit bytes are not CHARs).
bool is_token_char(char c) {
  if (is_ctl(c) || static_cast<unsigned char>(c) >= 0x80) return false;
  return std::string_view("()<>@,;:\\\"/[]?={} \t").find(c) == std::string_view::npos;
}

// A cursor over the text that reports errors with the byte offset they occurred at.
class DirectiveReader {
 public:
  explicit DirectiveReader(std::string_view text) : text_(text) {}

  std::variant<std::vector<Directive>, std::string> read_all() {
    std::vector<Directive> out;
    while (true) {
      skip_separators();
      if (at_end()) return out;
      Directive d;
      if (!read_name(d.name)) return error("expected a directive name");
      skip_lws();
      if (at_end() || text_[pos_] != '=') return error("expected '=' after " + d.name);
      ++pos_;
      skip_lws();
      if (!read_value(d.value)) return error(error_ + " in the value of " + d.name);
      skip_lws();
      if (!at_end() && text_[pos_] != ',') return error("expected ',' after " + d.name);
      out.push_back(std::move(d));
    }
  }

 private:
  bool at_end() const { return pos_ >= text_.size(); }
  void skip_lws() {
    while (!at_end() && is_lws(text_[pos_])) ++pos_;
  }
  void skip_separators() {
    while (!at_end() && (is_lws(text_[pos_]) || text_[pos_] == ',')) ++pos_;
  }
  std::string error(const std::string& what) const {
    return "malformed directive list at byte " + std::to_string(pos_) + ": " + what;
  }

  bool read_name(std::string& name) {
    while (!at_end() && is_token_char(text_[pos_])) name.push_back(ascii::to_lower(text_[pos_++]));
    return !name.empty();
  }

  bool read_value(std::string& value) {
    if (!at_end() && text_[pos_] == '"') return read_quoted(value);
    while (!at_end() && is_token_char(text_[pos_])) value.push_back(text_[pos_++]);
    if (value.empty()) error_ = "empty or invalid token";
    return !value.empty();
  }

  bool read_quoted(std::string& value) {
    ++pos_;  // opening quote
    while (!at_end()) {
      char c = text_[pos_++];
      if (c == '"') return true;
      if (c == '\\') {
        if (at_end()) break;
        c = text_[pos_++];
      }
      if (is_ctl(c) && c != '\t') {
        --pos_;
        error_ = "control character";
        return false;
      }
      value.push_back(c);
    }
    error_ = "unterminated quoted string";
    return false;
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace

std::variant<std::vector<Directive>, std::string> parse_directives(std::string_view text) {
  if (text.size() > kMaxDirectiveText)
    return "directive list too long (" + std::to_string(text.size()) + " bytes)";
  return DirectiveReader(text).read_all();
}

std::string quote_directive_value(std::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace tsp::auth
