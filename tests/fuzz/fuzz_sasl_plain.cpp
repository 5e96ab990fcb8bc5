// Fuzz target: SASL PLAIN parsing. Besides "no crash", an accepted message must respect
// the documented limits and contain no NUL, CR or LF.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "control/auth/sasl_plain.hpp"

namespace {

bool clean(const std::string& s) {
  return s.find_first_of(std::string_view("\0\r\n", 3)) == std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto msg = tsp::auth::parse_sasl_plain(input);
  if (!msg) return 0;
  if (msg->authcid.empty() || msg->password.empty()) std::abort();
  if (msg->authcid.size() > tsp::auth::kMaxPlainUser ||
      msg->authzid.size() > tsp::auth::kMaxPlainUser ||
      msg->password.size() > tsp::auth::kMaxPlainPassword)
    std::abort();
  if (!clean(msg->authzid) || !clean(msg->authcid) || !clean(msg->password)) std::abort();
  return 0;
}
