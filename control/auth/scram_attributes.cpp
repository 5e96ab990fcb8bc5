#include "control/auth/scram_attributes.hpp"

#include <algorithm>

#include "control/auth/base64.hpp"

namespace tsp::auth::scram {

namespace {

constexpr bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

constexpr bool is_base64_char(char c) {
  return is_alpha(c) || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
}

// Every attribute name RFC 5802 defines, in any message.
constexpr std::string_view kDefinedNames = "acveimnprs";

}  // namespace

std::optional<ScramFailure> check_message(std::string_view message, std::string_view what) {
  if (message.size() > kMaxMessage)
    return ScramFailure{std::string(what) + " is longer than " + std::to_string(kMaxMessage) +
                        " bytes"};
  if (message.find('\0') != std::string_view::npos)
    return ScramFailure{"NUL byte in " + std::string(what)};
  return std::nullopt;
}

std::variant<std::vector<Attribute>, ScramFailure> split_attributes(std::string_view message,
                                                                    std::string_view what) {
  std::vector<Attribute> out;
  while (true) {
    const size_t comma = message.find(',');
    const std::string_view part = message.substr(0, comma);
    if (part.size() < 2 || !is_alpha(part[0]) || part[1] != '=')
      return ScramFailure{"malformed attribute in " + std::string(what)};
    if (part.size() == 2)
      return ScramFailure{"empty value for " + std::string(1, part[0]) + "= in " +
                          std::string(what)};
    out.push_back({part[0], part.substr(2)});
    if (comma == std::string_view::npos) return out;
    message.remove_prefix(comma + 1);
  }
}

std::optional<ScramFailure> refuse_mandatory(std::span<const Attribute> attributes) {
  const bool any = std::any_of(attributes.begin(), attributes.end(),
                               [](const Attribute& a) { return a.name == 'm'; });
  if (any) return ScramFailure{"mandatory extension m= is not supported"};
  return std::nullopt;
}

std::optional<ScramFailure> check_extensions(std::span<const Attribute> extensions,
                                             std::string_view what) {
  for (const auto& a : extensions)
    if (kDefinedNames.find(a.name) != std::string_view::npos)
      return ScramFailure{"unexpected attribute " + std::string(1, a.name) + "= in " +
                          std::string(what)};
  return std::nullopt;
}

bool is_nonce(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return c >= 0x21 && c <= 0x7e && c != ',';
  });
}

std::optional<std::string> user_name_problem(std::string_view user) {
  if (user.size() > kMaxUser)
    return "user name longer than " + std::to_string(kMaxUser) + " bytes";
  const bool control = std::any_of(user.begin(), user.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
  if (control) return "user name contains a control character";
  return std::nullopt;
}

std::string escape_saslname(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    if (c == ',')
      out += "=2C";
    else if (c == '=')
      out += "=3D";
    else
      out += c;
  }
  return out;
}

std::optional<std::string> unescape_saslname(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '=') {
      out += text[i];
      continue;
    }
    const std::string_view code = text.substr(i + 1, 2);
    if (code == "2C")
      out += ',';
    else if (code == "3D")
      out += '=';
    else
      return std::nullopt;
    i += 2;
  }
  return out;
}

std::optional<std::string> decode_base64_value(std::string_view text) {
  if (!std::all_of(text.begin(), text.end(), is_base64_char)) return std::nullopt;
  return base64_decode(text);
}

}  // namespace tsp::auth::scram
