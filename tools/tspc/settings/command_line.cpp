#include "tools/tspc/settings/command_line.hpp"

#include <string_view>

#include "tools/tspc/settings/config_values.hpp"
#include "tools/tspc/settings/exit_codes.hpp"

#ifndef TSPC_VERSION
#define TSPC_VERSION "unknown"
#endif

namespace tsp::tspc {
namespace {

constexpr int kMaxVerbosity = 3;

std::string take_value(char flag, std::string_view rest, int& index, int argc, const char* const* argv) {
  std::string_view value = rest;
  if (value.empty()) {
    if (index + 1 >= argc || argv[index + 1] == nullptr)
      throw CommandLineError(std::string("option -") + flag + " needs a value");
    value = argv[++index];
  }
  if (value.empty()) throw CommandLineError(std::string("option -") + flag + ": empty value");
  return std::string(value);
}

void apply_flag_with_value(CommandLine& cl, char flag, std::string value) {
  try {
    switch (flag) {
      case 'f': cl.config_file = std::move(value); break;
      case 'i': cl.if_tunnel_v6v4 = detail::parse_interface_name("-i", value); break;
      case 'u': cl.if_tunnel_v6udpv4 = detail::parse_interface_name("-u", value); break;
      case 's': cl.if_prefix = detail::parse_interface_name("-s", value); break;
      case 'r': cl.retry_delay = detail::parse_unsigned("-r", value, 0, 3600); break;
      default: break;
    }
  } catch (const detail::BadValue& e) {
    throw CommandLineError(e.what());
  }
}

}  // namespace

std::string_view tspc_version() { return TSPC_VERSION; }

CommandLine parse_command_line(int argc, const char* const* argv) {
  CommandLine cl;
  for (int index = 1; index < argc; ++index) {
    const std::string_view arg = argv[index] ? argv[index] : "";
    if (arg == "--help") {
      cl.help = true;
      continue;
    }
    if (arg == "--") {
      if (index + 1 < argc) throw CommandLineError("unexpected argument " + detail::quoted(argv[index + 1]));
      break;
    }
    if (arg.size() < 2 || arg[0] != '-' || arg[1] == '-')
      throw CommandLineError(arg.starts_with("--") ? "unknown option " + detail::quoted(arg)
                                                   : "unexpected argument " + detail::quoted(arg));
    for (size_t pos = 1; pos < arg.size(); ++pos) {
      const char flag = arg[pos];
      switch (flag) {
        case 'v':
          if (cl.verbosity < kMaxVerbosity) ++cl.verbosity;
          break;
        case 'n': cl.foreground = true; break;
        case 'b': cl.boot = true; break;
        case 'y': break;  // gogoc: accept the PASSDSS server key; we do not do PASSDSS
        case 'h':
        case '?': cl.help = true; break;
        case 'f':
        case 'i':
        case 'u':
        case 's':
        case 'r':
          apply_flag_with_value(cl, flag, take_value(flag, arg.substr(pos + 1), index, argc, argv));
          pos = arg.size();  // the value used the rest of this argument
          break;
        default:
          throw CommandLineError("unknown option " + detail::quoted(std::string("-") + flag));
      }
    }
  }
  return cl;
}

std::string usage_text() {
  std::string text = "tspc " + std::string(TSPC_VERSION) +
                     ": TSP (RFC 5572) tunnel client, a drop-in for the classic tspc/gogoc\n"
                     "usage: tspc [-vvv] [-n] [-b] [-f FILE] [-i IF] [-u IF] [-s IF] [-r SECONDS] [-h]\n"
                     "  -v, -vv, -vvv  verbosity 1..3 on stderr (-vvv: every TSP message)\n"
                     "  -f FILE        configuration file (default: tspc.conf in the current directory)\n"
                     "  -i IF          tunnel interface for v6v4 (if_tunnel_v6v4)\n"
                     "  -u IF          tunnel interface for v6udpv4 (if_tunnel_v6udpv4)\n"
                     "  -s IF          interface that gets the prefix and router advertisements (if_prefix)\n"
                     "  -r SECONDS     retry delay, 0..3600 (retry_delay)\n"
                     "  -n             stay in the foreground\n"
                     "  -b             boot mode: one attempt, no retry, no UDP-to-TCP fallback\n"
                     "  -h, -?         this text\n"
                     "exit codes:\n";
  for (const auto& info : kExitCodes) {
    const auto number = std::to_string(to_int(info.code));
    text += std::string(4 - number.size(), ' ') + number + "  " + std::string(info.description) + "\n";
  }
  return text;
}

void apply_overrides(const CommandLine& cl, TspcConfig& cfg) {
  if (cl.if_tunnel_v6v4) cfg.if_tunnel_v6v4 = *cl.if_tunnel_v6v4;
  if (cl.if_tunnel_v6udpv4) cfg.if_tunnel_v6udpv4 = *cl.if_tunnel_v6udpv4;
  if (cl.if_prefix) cfg.if_prefix = *cl.if_prefix;
  if (cl.retry_delay) cfg.retry_delay = *cl.retry_delay;
}

TspcConfig load_with_overrides(const CommandLine& cl) {
  auto cfg = load_tspc_config(cl.config_file);
  apply_overrides(cl, cfg);
  validate(cfg);
  return cfg;
}

}  // namespace tsp::tspc
