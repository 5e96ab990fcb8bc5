#include "control/auth/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <climits>
#include <stdexcept>

namespace tsp::auth::crypto {

namespace {

// EVP_Digest into a fixed-size array; the only failure is an unusable OpenSSL build.
template <size_t N>
std::array<uint8_t, N> evp_digest(const EVP_MD* md, const void* data, size_t size) {
  std::array<uint8_t, N> out{};
  unsigned int out_len = 0;
  if (EVP_Digest(data, size, out.data(), &out_len, md, nullptr) != 1 || out_len != N)
    throw std::runtime_error("OpenSSL digest failed");
  return out;
}

}  // namespace

Md5Digest md5(std::string_view data) { return evp_digest<16>(EVP_md5(), data.data(), data.size()); }

Sha256Digest sha256(std::span<const uint8_t> data) {
  return evp_digest<32>(EVP_sha256(), data.data(), data.size());
}

Sha256Digest hmac_sha256(std::span<const uint8_t> key, std::string_view data) {
  Sha256Digest out{};
  size_t out_len = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
                reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
                out.size(), &out_len) == nullptr ||
      out_len != out.size())
    throw std::runtime_error("OpenSSL HMAC-SHA256 failed");
  return out;
}

Sha256Digest pbkdf2_sha256(std::string_view password, std::span<const uint8_t> salt,
                           uint32_t iterations) {
  if (iterations == 0 || iterations > INT_MAX || password.size() > INT_MAX || salt.size() > INT_MAX)
    throw std::invalid_argument("PBKDF2 parameters out of range");
  Sha256Digest out{};
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt.data(),
                        static_cast<int>(salt.size()), static_cast<int>(iterations), EVP_sha256(),
                        static_cast<int>(out.size()), out.data()) != 1)
    throw std::runtime_error("OpenSSL PBKDF2 failed");
  return out;
}

std::vector<uint8_t> random_bytes(size_t count) {
  std::vector<uint8_t> out(count);
  if (count > INT_MAX || RAND_bytes(out.data(), static_cast<int>(count)) != 1)
    throw std::runtime_error("OpenSSL RAND_bytes failed: no secure randomness available");
  return out;
}

std::string to_hex_lower(std::span<const uint8_t> bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 0x0f]);
  }
  return out;
}

bool constant_time_equal(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  if (a.size() != b.size()) return false;
  return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace tsp::auth::crypto
