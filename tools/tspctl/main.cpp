// tspctl: administration of a running tspbrokerd over its admin socket (admin_protocol.hpp).
//   tspctl [--config FILE | --socket PATH] [--json] COMMAND ...
// User commands fall back to the configured store when no daemon listens, so users can be
// added before the first start; so does history, from its file beside the store. Passwords
// are read from standard input, never from argv.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>

#include "config/broker_config.hpp"
#include "control/admin/admin_protocol.hpp"
#include "control/store/store.hpp"
#include "tools/tspctl/admin_client.hpp"
#include "tools/tspctl/exit_codes.hpp"
#include "tools/tspctl/local_fallback.hpp"
#include "tools/tspctl/render.hpp"
#include "tools/tspctl/time_arg.hpp"

namespace {

using namespace tsp;
using namespace tsp::tspctl;
using admin::Command;

std::optional<std::string> read_password() {
  std::string line;
  if (!std::getline(std::cin, line)) return std::nullopt;
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  if (line.empty()) return std::nullopt;
  return line;
}

int exit_code_for(admin::ErrorStatus status) {
  switch (status) {
    case admin::ErrorStatus::BadRequest:
      return kExitUsage;
    case admin::ErrorStatus::PermissionDenied:
      return kExitPermission;
    default:
      return kExitRefused;
  }
}

// Prints a reply line's result (or its error) and returns the exit status.
int print_reply(Command command, const std::string& line, bool as_json) {
  std::string why;
  const auto reply = admin::parse_reply(line, why);
  if (!reply) {
    std::fprintf(stderr, "tspctl: %s\n", why.c_str());
    return kExitRefused;
  }
  if (!reply->ok) {
    std::fprintf(stderr, "tspctl: %s\n", reply->error.c_str());
    return exit_code_for(reply->status);
  }
  try {
    const std::string text = render(command, reply->result, as_json);
    std::fwrite(text.data(), 1, text.size(), stdout);
  } catch (const nlohmann::json::exception& e) {
    std::fprintf(stderr, "tspctl: unexpected reply from the daemon: %s\n", e.what());
    return kExitRefused;
  }
  return kExitOk;
}

struct Cli {
  CLI::App app{"tspctl: administration of a running tspbroker daemon"};
  std::string config_path, socket_path, target, name, at;
  uint32_t limit = admin::kDefaultHistoryLimit;
  bool as_json = false;
  std::vector<std::pair<CLI::App*, Command>> commands;

  Cli() {
    app.footer(kExitCodesHelp);
    app.require_subcommand(1);
    auto* cfg = app.add_option("-c,--config", config_path,
                               "broker configuration file: its admin socket, and its store when no daemon runs");
    app.add_option("-s,--socket", socket_path, "the daemon's admin socket (default: the configuration's)")
        ->excludes(cfg);
    app.add_flag("--json", as_json, "print the result as JSON (stable snake_case field names)");

    add(app, "tunnels", "list live tunnels: user, mode, client, IPv6, age, last seen, traffic", Command::Tunnels);
    auto* tunnel = add(app, "tunnel", "show one tunnel in detail", Command::Tunnel);
    tunnel->add_option("tunnel", target, "user name, IPv6 address (or one inside its prefix), prefix or id")
        ->required();
    auto* kick = add(app, "kick", "remove a tunnel; anonymous addresses go to quarantine", Command::Kick);
    kick->add_option("tunnel", target, "user name, IPv6 address, prefix or tunnel id")->required();
    add(app, "users", "list users and their live tunnels", Command::Users);
    auto* user = app.add_subcommand("user", "manage one user (works on the store when no daemon runs)");
    user->require_subcommand(1);
    for (auto [verb, help, command] :
         {std::tuple{"add", "add a user; the password is read from standard input", Command::UserAdd},
          std::tuple{"passwd", "set a user's password from standard input", Command::UserPasswd},
          std::tuple{"del", "delete a user, their live tunnel and stable allocations", Command::UserDel},
          std::tuple{"show", "a user's details, allocations and live tunnel", Command::UserShow}}) {
      add(*user, verb, help, command)->add_option("name", name, "user name")->required();
    }
    add(app, "pools", "address pools: range, block length, size, used, free, quarantined", Command::Pools);
    add(app, "stats", "dataplane counters per worker, drops by reason, control-plane counters", Command::Stats);
    add(app, "lockouts",
        "addresses and user names locked out for failed password logins, and those counting toward it",
        Command::Lockouts);
    auto* unlock = add(app, "unlock", "lift an address's lockout and forget its failed logins", Command::Unlock);
    unlock->add_option("address", target, "the client's IPv4 address, or 'all' (every address and user name)")
        ->required();
    add(app, "unlock-user", "lift a user name's lockout and forget its failed logins", Command::UnlockUser)
        ->add_option("name", name, "user name")
        ->required();
    add(app, "sources",
        "client IPv4 addresses holding unfinished TSP sessions or anonymous tunnels, against their per-address limits",
        Command::Sources);
    add_history();
    add(app, "reload", "re-read the daemon's configuration file (prints OK or the error)", Command::Reload);
  }

  // history ADDRESS | --user NAME, [--at TIME] [--limit N]: an abuse report names an address
  // and a time.
  void add_history() {
    auto* history = add(app, "history",
                        "who had an IPv6 address, or came from an IPv4 address, and when (or a user's tunnels): "
                        "live and ended tunnels, newest first (works on the history file when no daemon runs)",
                        Command::History);
    auto* address = history->add_option(
        "address", target, "an IPv6 address (a tunnel's own, or one inside its prefix) or a client's IPv4 address");
    history->add_option("--user", name, "a user's tunnels instead of an address's")->type_name("NAME")->excludes(address);
    history
        ->add_option("--at", at,
                     "only the tunnels live at TIME: unix seconds or UTC, as 2026-11-20T14:03:00Z or "
                     "'2026-11-20 14:03:00'")
        ->check(CLI::Validator(
            [](std::string& text) {
              return parse_time(text) ? std::string()
                                      : "'" + text + "' is neither unix seconds nor a UTC time like 2026-11-20T14:03:00Z";
            },
            ""))
        ->type_name("TIME");
    history->add_option("--limit", limit, "at most N tunnels, the newest (default 100, at most 10000)")
        ->type_name("N")
        ->check(CLI::Range(1u, admin::kMaxHistoryLimit).description(""));
    history->callback([this] {
      if (target.empty() && name.empty()) throw CLI::ValidationError("history", "give an ADDRESS or --user NAME");
    });
  }

  CLI::App* add(CLI::App& parent, const char* verb, const char* help, Command command) {
    auto* sub = parent.add_subcommand(verb, help);
    sub->footer(kExitCodesHelp);
    commands.emplace_back(sub, command);
    return sub;
  }

  std::optional<Command> chosen() const {
    for (const auto& [sub, command] : commands)
      if (sub->parsed()) return command;
    return std::nullopt;
  }
};

}  // namespace

int main(int argc, char** argv) {
  Cli cli;
  try {
    cli.app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  const auto command = cli.chosen();
  if (!command) return kExitUsage;

  std::optional<config::Config> cfg;
  try {
    cfg = cli.config_path.empty() ? config::parse_config(config::embedded_default_config(), "<embedded>")
                                  : config::load_config_file(cli.config_path);
  } catch (const config::ConfigError& e) {
    std::fprintf(stderr, "tspctl: %s\n", e.what());
    return kExitUsage;
  }
  const std::string socket = cli.socket_path.empty() ? cfg->admin.socket_path : cli.socket_path;

  admin::AdminRequest request;
  request.command = *command;
  request.target = cli.target;
  request.name = cli.name;
  if (!cli.at.empty()) request.at = parse_time(cli.at);  // checked while parsing
  request.limit = cli.limit;
  if (*command == Command::UserAdd || *command == Command::UserPasswd) {
    const auto password = read_password();
    if (!password) {
      std::fprintf(stderr, "tspctl: no password on standard input\n");
      return kExitUsage;
    }
    request.password = *password;
  }

  const Exchange ex = send_request(socket, admin::encode_request(request));
  switch (ex.outcome) {
    case Exchange::Outcome::Replied:
      return print_reply(*command, ex.reply, cli.as_json);
    case Exchange::Outcome::PermissionDenied:
      std::fprintf(stderr, "tspctl: permission denied: %s (tspctl needs root or the admin group)\n",
                   ex.error.c_str());
      return kExitPermission;
    case Exchange::Outcome::NotListening:
      if (works_without_daemon(*command)) {
        std::fprintf(stderr, "tspctl: no daemon on %s: working on the store %s directly\n", socket.c_str(),
                     cfg->store.sqlite_path.c_str());
        try {
          return print_reply(*command, run_on_store(*cfg, request), cli.as_json);
        } catch (const store::StoreError& e) {
          std::fprintf(stderr, "tspctl: %s\n", e.what());
          return kExitRefused;
        }
      }
      [[fallthrough]];
    case Exchange::Outcome::Failed:
      break;
  }
  std::fprintf(stderr, "tspctl: daemon not reachable: %s\n", ex.error.c_str());
  return kExitUnreachable;
}
