#include "tools/tspc/mechanism_choice.hpp"

namespace tsp::tspc {

std::string_view to_string(Mechanism m) {
  switch (m) {
    case Mechanism::Anonymous: return "ANONYMOUS";
    case Mechanism::DigestMd5: return "DIGEST-MD5";
    case Mechanism::Plain: return "PLAIN";
  }
  return "?";
}

std::optional<Mechanism> choose_mechanism(AuthMethod configured, bool anonymous, const Capabilities& offered) {
  if (anonymous || configured == AuthMethod::Anonymous) {
    if (offered.anonymous) return Mechanism::Anonymous;
    return std::nullopt;
  }
  const bool digest_allowed = configured == AuthMethod::Any || configured == AuthMethod::DigestMd5;
  const bool plain_allowed = configured == AuthMethod::Any || configured == AuthMethod::Plain;
  if (digest_allowed && offered.digest_md5) return Mechanism::DigestMd5;
  if (plain_allowed && offered.plain) return Mechanism::Plain;
  return std::nullopt;
}

}  // namespace tsp::tspc
