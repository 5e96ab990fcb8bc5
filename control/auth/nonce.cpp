#include "control/auth/nonce.hpp"

#include "control/auth/crypto.hpp"

namespace tsp::auth {

std::string make_nonce() { return crypto::to_hex_lower(crypto::random_bytes(16)); }

}  // namespace tsp::auth
