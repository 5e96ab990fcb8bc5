// Server nonces for challenge-response mechanisms (DIGEST-MD5).
#pragma once

#include <string>

namespace tsp::auth {

// 128 random bits (RAND_bytes) as 32 lower-case hex characters: unguessable, and free of
// quotes, commas and backslashes, so it can sit in a challenge without escaping.
// Throws std::runtime_error if no secure randomness is available.
std::string make_nonce();

}  // namespace tsp::auth
