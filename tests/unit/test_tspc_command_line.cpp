// tspc's command line: every flag, combined and repeated -v, values attached or separate,
// errors, the usage text, and the overrides it applies to a config.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>
#include <unistd.h>

#include "tools/tspc/settings/command_line.hpp"
#include "tools/tspc/settings/exit_codes.hpp"

using namespace tsp::tspc;

namespace {

CommandLine parse(std::initializer_list<const char*> args) {
  std::vector<const char*> argv{"tspc"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(nullptr);
  return parse_command_line(static_cast<int>(argv.size() - 1), argv.data());
}

std::string error_of(std::initializer_list<const char*> args) {
  try {
    parse(args);
  } catch (const CommandLineError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("no arguments: defaults", "[tspc_cli]") {
  const auto cl = parse({});
  CHECK(cl.verbosity == 0);
  CHECK(cl.config_file == "tspc.conf");
  CHECK_FALSE(cl.if_tunnel_v6v4);
  CHECK_FALSE(cl.if_tunnel_v6udpv4);
  CHECK_FALSE(cl.if_prefix);
  CHECK_FALSE(cl.retry_delay);
  CHECK_FALSE(cl.foreground);
  CHECK_FALSE(cl.boot);
  CHECK_FALSE(cl.help);
}

TEST_CASE("verbosity: -v, -vv, -vvv, repeated, capped at 3", "[tspc_cli]") {
  CHECK(parse({"-v"}).verbosity == 1);
  CHECK(parse({"-vv"}).verbosity == 2);
  CHECK(parse({"-vvv"}).verbosity == 3);
  CHECK(parse({"-v", "-v"}).verbosity == 2);
  CHECK(parse({"-vvvv"}).verbosity == 3);
}

TEST_CASE("every flag", "[tspc_cli]") {
  const auto cl = parse({"-i", "sit7", "-u", "tun7", "-s", "eth1", "-f", "/etc/tsp/tspc.conf", "-r", "5", "-n", "-b"});
  CHECK(*cl.if_tunnel_v6v4 == "sit7");
  CHECK(*cl.if_tunnel_v6udpv4 == "tun7");
  CHECK(*cl.if_prefix == "eth1");
  CHECK(cl.config_file == "/etc/tsp/tspc.conf");
  CHECK(*cl.retry_delay == 5);
  CHECK(cl.foreground);
  CHECK(cl.boot);
  CHECK_FALSE(cl.help);
  CHECK(parse({"-h"}).help);
  CHECK(parse({"-?"}).help);
  CHECK(parse({"--help"}).help);
  CHECK(parse({"-y"}).verbosity == 0);  // gogoc's PASSDSS flag: accepted, no effect
  CHECK(*parse({"-r", "0"}).retry_delay == 0);
}

TEST_CASE("combined flags and attached values", "[tspc_cli]") {
  auto cl = parse({"-nbvv"});
  CHECK((cl.foreground && cl.boot && cl.verbosity == 2));
  cl = parse({"-nvf", "my.conf"});
  CHECK((cl.foreground && cl.verbosity == 1 && cl.config_file == "my.conf"));
  cl = parse({"-fmy.conf", "-r30", "-isit2"});
  CHECK((cl.config_file == "my.conf" && *cl.retry_delay == 30 && *cl.if_tunnel_v6v4 == "sit2"));
  cl = parse({"-vf", "-n"});  // "-n" is the value of -f here, as with getopt
  CHECK((cl.config_file == "-n" && !cl.foreground));
  cl = parse({"-n", "--"});
  CHECK(cl.foreground);
}

TEST_CASE("command line errors", "[tspc_cli]") {
  CHECK(error_of({"-x"}) == "unknown option '-x'");
  CHECK(error_of({"-vx"}) == "unknown option '-x'");
  CHECK(error_of({"--verbose"}) == "unknown option '--verbose'");
  CHECK(error_of({"extra"}) == "unexpected argument 'extra'");
  CHECK(error_of({"-"}) == "unexpected argument '-'");
  CHECK(error_of({"--", "extra"}) == "unexpected argument 'extra'");
  CHECK(error_of({"-f"}) == "option -f needs a value");
  CHECK(error_of({"-n", "-i"}) == "option -i needs a value");
  CHECK(error_of({"-f", ""}) == "option -f: empty value");
  CHECK(error_of({"-r", "abc"}) == "-r: 'abc' is not a number in 0..3600");
  CHECK(error_of({"-r", "3601"}) == "-r: '3601' is not a number in 0..3600");
  CHECK(error_of({"-u", "a/b"}) == "-u: 'a/b' is not an interface name (1..15 characters, no '/', ':' or spaces)");
  CHECK(error_of({"-s", "0123456789abcdef"}) ==
        "-s: '0123456789abcdef' is not an interface name (1..15 characters, no '/', ':' or spaces)");
  CHECK(error_of({"-i", "a b"}) == "-i: 'a b' is not an interface name (1..15 characters, no '/', ':' or spaces)");
  CHECK(error_of({"-\x01"}) == "unknown option '-\\x01'");
}

TEST_CASE("usage text: version, every option, every exit code", "[tspc_cli]") {
  const auto text = usage_text();
  CHECK(text.starts_with("tspc " + std::string(tspc_version()) + ": "));
  CHECK(tspc_version() != "unknown");
  for (const char* option : {"-v, -vv, -vvv", "-f FILE", "-i IF", "-u IF", "-s IF", "-r SECONDS", "-n ", "-b ", "-h, -?"})
    CHECK(text.find(option) != std::string::npos);
  for (const auto& info : kExitCodes) {
    const auto number = std::to_string(to_int(info.code));
    CHECK(text.find(std::string(4 - number.size(), ' ') + number + "  " + std::string(info.description) + "\n") !=
          std::string::npos);
  }
}

TEST_CASE("exit codes: values of the classic client and their names", "[tspc_cli]") {
  CHECK(to_int(ExitCode::Success) == 0);
  CHECK(to_int(ExitCode::UsageError) == 1);
  CHECK(to_int(ExitCode::MemoryStarvation) == 2);
  CHECK(to_int(ExitCode::InvalidConfigFile) == 3);
  CHECK(to_int(ExitCode::InvalidServerAddress) == 4);
  CHECK(to_int(ExitCode::SocketConnectFailed) == 9);
  CHECK(to_int(ExitCode::AuthenticationFailure) == 16);
  CHECK(to_int(ExitCode::InterfaceSetupFailed) == 18);
  CHECK(to_int(ExitCode::KeepaliveTimeout) == 21);
  CHECK(to_int(ExitCode::TunnelIo) == 23);
  for (size_t i = 0; i < kExitCodes.size(); ++i) {
    CHECK(to_int(kExitCodes[i].code) == static_cast<int>(i));  // complete, in order, no gaps
    CHECK_FALSE(describe(kExitCodes[i].code).empty());
  }
  CHECK(describe(ExitCode::AuthenticationFailure) == "authentication failed");
  CHECK(describe(static_cast<ExitCode>(99)) == "unknown exit code");
}

TEST_CASE("apply_overrides and load_with_overrides", "[tspc_cli]") {
  char dir_template[] = "/tmp/tspc_cli_XXXXXX";
  REQUIRE(mkdtemp(dir_template));
  const std::string path = std::string(dir_template) + "/tspc.conf";
  {
    std::ofstream out(path);
    out << "server=broker.example.net\ntemplate=linux\nhost_type=router\nretry_delay=30\n";
  }
  const auto file_only = load_tspc_config(path);
  CHECK_THROWS_WITH(validate(file_only),
                    path + ": if_prefix: required with host_type=router (the LAN interface for the prefix; or -s IF)");

  const char* argv[] = {"tspc", "-f", path.c_str(), "-s", "eth1", "-i", "sit5", "-u", "tun5", "-r", "7", nullptr};
  const auto cl = parse_command_line(11, argv);
  const auto cfg = load_with_overrides(cl);
  CHECK(cfg.if_prefix == "eth1");
  CHECK(cfg.if_tunnel_v6v4 == "sit5");
  CHECK(cfg.if_tunnel_v6udpv4 == "tun5");
  CHECK(cfg.retry_delay == 7);
  CHECK(cfg.file == path);

  auto untouched = file_only;
  apply_overrides(CommandLine{}, untouched);
  CHECK(untouched.if_prefix.empty());
  CHECK(untouched.retry_delay == 30);
  CHECK(untouched.if_tunnel_v6v4 == "sit1");

  CommandLine missing;
  missing.config_file = std::string(dir_template) + "/none.conf";
  CHECK_THROWS_WITH(load_with_overrides(missing), missing.config_file + ": cannot open the configuration file");
  std::remove(path.c_str());
  rmdir(dir_template);
}
