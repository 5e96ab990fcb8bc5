// tsp_load_users: creates the DIGEST-MD5 users of a tsp_load run directly in the broker's
// store, all in one transaction: <prefix><first> .. <prefix><first+count-1>, one password.
// `tspctl user add` derives fresh PBKDF2 keys per user (1-2 ms each); here they are derived
// once and shared, which is sound because SCRAM keys depend on the password and the salt
// only, not on the name. The DIGEST-MD5 hash does include the name and is made per user.
// For benchmarks only: real users must not share a salt. Run it while the broker is stopped
// (or before it starts): the broker reads users on demand, so it would also work live.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <string>

#include "control/auth/crypto.hpp"
#include "control/auth/make_credentials.hpp"
#include "control/store/store.hpp"

int main(int argc, char** argv) {
  CLI::App app{"tsp_load_users: create tsp_load's DIGEST-MD5 users in the broker's SQLite store"};
  std::string store_path, realm = "tspbroker", prefix = "load", password = "load-password";
  size_t first = 0, count = 0;
  app.add_option("--store", store_path, "the broker's SQLite file (created if missing)")->required();
  app.add_option("--realm", realm, "the broker's DIGEST-MD5 realm")->capture_default_str();
  app.add_option("--user-prefix", prefix, "user names are <prefix><n>")->capture_default_str();
  app.add_option("--password", password, "password of every user")->capture_default_str();
  app.add_option("--first", first, "first n")->capture_default_str();
  app.add_option("--count", count, "how many users")->required();
  CLI11_PARSE(app, argc, argv);
  if (prefix.empty() || password.empty()) {
    std::fprintf(stderr, "tsp_load_users: --user-prefix and --password must not be empty\n");
    return 2;
  }
  try {
    const auto t0 = std::chrono::steady_clock::now();
    auto store = tsp::store::Store::open_sqlite(store_path);
    const auto shared = tsp::auth::make_credentials(prefix + std::to_string(first), realm, password);
    size_t added = 0;
    store->transaction([&](tsp::store::Store& s) {
      tsp::store::UserRecord user;
      user.credentials = shared;
      user.created_at = static_cast<int64_t>(std::time(nullptr));
      for (size_t n = first; n < first + count; ++n) {
        user.name = prefix + std::to_string(n);
        user.credentials.digest_md5_urp = tsp::auth::crypto::md5(user.name + ":" + realm + ":" + password);
        if (s.add_user(user)) ++added;
      }
    });
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("tsp_load_users: %zu user(s) added, %zu already there, %.3f s\n", added, count - added, secs);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tsp_load_users: %s\n", e.what());
    return 1;
  }
}
