#include "tools/tspc/mechanism_choice.hpp"

namespace tsp::tspc {

std::string_view to_string(Mechanism m) {
  switch (m) {
    case Mechanism::Anonymous: return "ANONYMOUS";
    case Mechanism::ScramSha256: return "SCRAM-SHA-256";
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
  const bool scram_allowed = configured == AuthMethod::Any || configured == AuthMethod::ScramSha256;
  const bool digest_allowed = configured == AuthMethod::Any || configured == AuthMethod::DigestMd5;
  const bool plain_allowed = configured == AuthMethod::Any || configured == AuthMethod::Plain;
  if (scram_allowed && offered.scram_sha256) return Mechanism::ScramSha256;
  if (digest_allowed && offered.digest_md5) return Mechanism::DigestMd5;
  if (plain_allowed && offered.plain) return Mechanism::Plain;
  return std::nullopt;
}

}  // namespace tsp::tspc
