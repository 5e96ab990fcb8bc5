// tspctl: administration of tspbroker. This first version works on the store named by the
// broker's configuration (the daemon's admin socket comes with the operations issue):
//   tspctl --config FILE user add NAME      password read from standard input (one line)
//   tspctl --config FILE user passwd NAME   new password from standard input
//   tspctl --config FILE user del NAME
//   tspctl --config FILE users
// Exit status: 0 done, 1 usage or configuration error, 2 refused or failed.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <optional>
#include <string>

#include "config/broker_config.hpp"
#include "control/auth/make_credentials.hpp"
#include "control/store/store.hpp"

namespace {

constexpr int kUsage = 1;
constexpr int kRefused = 2;

std::optional<std::string> read_password() {
  std::string line;
  if (!std::getline(std::cin, line)) return std::nullopt;
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  if (line.empty()) return std::nullopt;
  return line;
}

bool valid_user_name(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  for (unsigned char c : name)
    if (c < 0x21 || c == 0x7f || c == '"' || c == '\\') return false;  // printable, quotable in DIGEST-MD5
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tspctl: tspbroker administration"};
  app.require_subcommand(1);
  std::string config_path;
  app.add_option("-c,--config", config_path, "broker configuration file (default: the embedded defaults)");

  std::string name;
  auto* user = app.add_subcommand("user", "manage one user");
  user->require_subcommand(1);
  auto* add = user->add_subcommand("add", "add a user; the password is read from standard input");
  add->add_option("name", name, "user name")->required();
  auto* passwd = user->add_subcommand("passwd", "set a user's password from standard input");
  passwd->add_option("name", name, "user name")->required();
  auto* del = user->add_subcommand("del", "delete a user and their stable allocations");
  del->add_option("name", name, "user name")->required();
  auto* users = app.add_subcommand("users", "list users");
  CLI11_PARSE(app, argc, argv);

  std::optional<tsp::config::Config> cfg;
  try {
    cfg = config_path.empty() ? tsp::config::parse_config(tsp::config::embedded_default_config(), "<embedded>")
                              : tsp::config::load_config_file(config_path);
  } catch (const tsp::config::ConfigError& e) {
    std::fprintf(stderr, "tspctl: %s\n", e.what());
    return kUsage;
  }
  try {
    auto store = tsp::store::Store::open_sqlite(cfg->store.sqlite_path);
    const std::string& realm = cfg->tsp().realm;
    if (add->parsed() || passwd->parsed()) {
      if (!valid_user_name(name)) {
        std::fprintf(stderr, "tspctl: invalid user name (1-253 printable characters, no quotes or backslash)\n");
        return kUsage;
      }
      const auto password = read_password();
      if (!password) {
        std::fprintf(stderr, "tspctl: no password on standard input\n");
        return kUsage;
      }
      auto creds = tsp::auth::make_credentials(name, realm, *password);
      if (add->parsed()) {
        tsp::store::UserRecord rec{name, creds, true, static_cast<int64_t>(std::time(nullptr))};
        if (!store->add_user(rec)) {
          std::fprintf(stderr, "tspctl: user '%s' already exists\n", name.c_str());
          return kRefused;
        }
        std::printf("user '%s' added (realm %s)\n", name.c_str(), realm.c_str());
      } else {
        if (!store->update_credentials(name, creds)) {
          std::fprintf(stderr, "tspctl: no user '%s'\n", name.c_str());
          return kRefused;
        }
        std::printf("password of '%s' changed\n", name.c_str());
      }
    } else if (del->parsed()) {
      if (!store->delete_user(name)) {
        std::fprintf(stderr, "tspctl: no user '%s'\n", name.c_str());
        return kRefused;
      }
      std::printf("user '%s' deleted\n", name.c_str());
    } else if (users->parsed()) {
      std::printf("%-32s %-8s %s\n", "USER", "ENABLED", "REALM");
      for (const auto& u : store->list_users())
        std::printf("%-32s %-8s %s\n", u.name.c_str(), u.enabled ? "yes" : "no", u.credentials.realm.c_str());
    }
  } catch (const tsp::store::StoreError& e) {
    std::fprintf(stderr, "tspctl: %s\n", e.what());
    return kRefused;
  }
  return 0;
}
