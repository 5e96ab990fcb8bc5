// Template environment (exact variable sets), the runner (exit status, output into the log,
// time limit, missing script), the log (levels, redaction), and the shipped scripts:
// linux.sh run against a fake `ip`/`sysctl` first in PATH that records its arguments, so
// the exact iproute2 commands are checked without root; checktunnel.sh for real.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tools/tspc/settings/client_log.hpp"
#include "tools/tspc/settings/template_env.hpp"
#include "tools/tspc/settings/template_runner.hpp"

using namespace tsp;
using namespace tsp::tspc;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    char name[] = "/tmp/tspc_template_XXXXXX";
    REQUIRE(mkdtemp(name));
    path = name;
  }
  ~TempDir() { fs::remove_all(path); }
};

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_script(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
  fs::permissions(path, fs::perms::owner_all);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

Ipv4Addr v4(const char* text) { return *Ipv4Addr::parse(text); }
Ipv6Addr v6(const char* text) { return *Ipv6Addr::parse(text); }

TunnelInfo host_v6v4() {
  TunnelInfo info;
  info.mode = "v6v4";
  info.client_v4 = v4("198.51.100.7");
  info.server_v4 = v4("192.0.2.1");
  info.client_v6 = v6("2001:db8:0:1::2");
  info.server_v6 = v6("2001:db8:0:1::1");
  info.dns_v6 = v6("2001:db8::53");
  return info;
}

TunnelInfo router_info(const char* mode, const char* prefix, unsigned len) {
  auto info = host_v6v4();
  info.mode = mode;
  info.host_type = HostType::Router;
  info.prefix_text = prefix;
  info.prefix_len = len;
  return info;
}

// A config whose log goes to a file in `dir` at level 3, nothing on stderr.
TspcConfig logged_config(const fs::path& dir) {
  TspcConfig cfg;
  cfg.file = "t.conf";
  cfg.server.host = "broker";
  cfg.template_name = "linux";
  cfg.log_stderr = 0;
  cfg.log_file = 3;
  cfg.log_filename = (dir / "tspc.log").string();
  return cfg;
}

using Env = TemplateEnvironment;

}  // namespace

TEST_CASE("template environment: host v6v4, exact set", "[tspc_template]") {
  TspcConfig cfg;
  const Env expected = {
      {"TSP_OPERATION", "TSP_TUNNEL_CREATION"}, {"TSP_VERBOSE", "3"},
      {"TSP_HOME_DIR", "/usr/local/etc/tsp"},   {"TSP_TUNNEL_MODE", "v6v4"},
      {"TSP_HOST_TYPE", "host"},                {"TSP_TUNNEL_INTERFACE", "sit1"},
      {"TSP_HOME_INTERFACE", ""},               {"TSP_CLIENT_ADDRESS_IPV4", "198.51.100.7"},
      {"TSP_CLIENT_ADDRESS_IPV6", "2001:db8:0:1::2"}, {"TSP_CLIENT_DNS_ADDRESS_IPV6", "2001:db8::53"},
      {"TSP_SERVER_ADDRESS_IPV4", "192.0.2.1"}, {"TSP_SERVER_ADDRESS_IPV6", "2001:db8:0:1::1"},
      {"TSP_TUNNEL_PREFIXLEN", "128"},
  };
  CHECK(template_environment(cfg, host_v6v4(), TemplateOperation::Creation) == expected);
  auto teardown = expected;
  teardown[0].second = "TSP_TUNNEL_TEARDOWN";
  CHECK(template_environment(cfg, host_v6v4(), TemplateOperation::Teardown) == teardown);
}

TEST_CASE("template environment: v6udpv4 with the engine's interface and a DNS name", "[tspc_template]") {
  TspcConfig cfg;
  cfg.tsp_dir = "/etc/tsp";
  auto info = host_v6v4();
  info.mode = "v6udpv4";
  info.tunnel_interface = "tsp0";
  info.dns_v6.reset();
  info.dns_name = "alice.broker.example.net";
  const Env expected = {
      {"TSP_OPERATION", "TSP_TUNNEL_CREATION"}, {"TSP_VERBOSE", "3"},
      {"TSP_HOME_DIR", "/etc/tsp"},             {"TSP_TUNNEL_MODE", "v6udpv4"},
      {"TSP_HOST_TYPE", "host"},                {"TSP_TUNNEL_INTERFACE", "tsp0"},
      {"TSP_HOME_INTERFACE", ""},               {"TSP_CLIENT_ADDRESS_IPV4", "198.51.100.7"},
      {"TSP_CLIENT_ADDRESS_IPV6", "2001:db8:0:1::2"}, {"TSP_CLIENT_DNS_ADDRESS_IPV6", ""},
      {"TSP_CLIENT_DNS_NAME", "alice.broker.example.net"},
      {"TSP_SERVER_ADDRESS_IPV4", "192.0.2.1"}, {"TSP_SERVER_ADDRESS_IPV6", "2001:db8:0:1::1"},
      {"TSP_TUNNEL_PREFIXLEN", "128"},
  };
  CHECK(template_environment(cfg, info, TemplateOperation::Creation) == expected);
  info.tunnel_interface.clear();  // not told: the configured one of the offered mode
  CHECK(template_environment(cfg, info, TemplateOperation::Creation)[5].second == "tun");
  info.mode = "v4v6";
  const auto v4v6 = template_environment(cfg, info, TemplateOperation::Creation);
  CHECK(v4v6[5].second == "sit0");
  CHECK(v4v6.back() == std::pair<std::string, std::string>{"TSP_TUNNEL_PREFIXLEN", "32"});
}

TEST_CASE("template environment: router with a delegated /64", "[tspc_template]") {
  TspcConfig cfg;
  cfg.if_prefix = "eth1";
  const auto env = template_environment(
      cfg, router_info("v6v4", "2001:0db8:0001:0002:0000:0000:0000:0000", 64), TemplateOperation::Creation);
  const Env expected = {
      {"TSP_OPERATION", "TSP_TUNNEL_CREATION"}, {"TSP_VERBOSE", "3"},
      {"TSP_HOME_DIR", "/usr/local/etc/tsp"},   {"TSP_TUNNEL_MODE", "v6v4"},
      {"TSP_HOST_TYPE", "router"},              {"TSP_TUNNEL_INTERFACE", "sit1"},
      {"TSP_HOME_INTERFACE", "eth1"},           {"TSP_CLIENT_ADDRESS_IPV4", "198.51.100.7"},
      {"TSP_CLIENT_ADDRESS_IPV6", "2001:db8:0:1::2"}, {"TSP_CLIENT_DNS_ADDRESS_IPV6", "2001:db8::53"},
      {"TSP_SERVER_ADDRESS_IPV4", "192.0.2.1"}, {"TSP_SERVER_ADDRESS_IPV6", "2001:db8:0:1::1"},
      {"TSP_TUNNEL_PREFIXLEN", "128"},          {"TSP_PREFIX", "2001:0db8:0001:0002"},
      {"TSP_PREFIXLEN", "64"},
  };
  CHECK(env == expected);
}

TEST_CASE("TSP_PREFIX: expanded text cut after ceil(len/16) groups", "[tspc_template]") {
  CHECK(template_prefix_text("2001:0db8:0001:0002:0000:0000:0000:0000", 64) == "2001:0db8:0001:0002");
  CHECK(template_prefix_text("2001:db8:42::", 48) == "2001:0db8:0042");
  CHECK(template_prefix_text("2001:db8:42:ab00::", 56) == "2001:0db8:0042:ab00");
  CHECK(template_prefix_text("2001:0DB8:0001:0002", 64) == "2001:0db8:0001:0002");  // already cut
  CHECK(template_prefix_text("2001:db8::", 0) == "2001:0db8:0000:0000:0000:0000:0000:0000");
  CHECK(template_prefix_text("2001:db8::1", 128) == "2001:0db8:0000:0000:0000:0000:0000:0001");
}

TEST_CASE("log: levels per destination, -v, stamps, redaction", "[tspc_log]") {
  TempDir dir;
  auto cfg = logged_config(dir.path);
  cfg.passwd = "s3cret!";
  cfg.log_stderr = 1;
  cfg.log_file = 2;
  std::FILE* err = std::tmpfile();
  REQUIRE(err);
  {
    ClientLog log(cfg, 0, err);
    CHECK(log.stderr_level() == 1);
    CHECK(log.file_level() == 2);
    CHECK(log.syslog_level() == 0);
    log.error("connect failed");
    log.info("authenticating as alice");
    log.debug("never shown");
    log.debug(std::string("AUTH \0alice\0s3cret!\r\n", 21));
  }
  const auto file = read_text(dir.path / "tspc.log");
  const auto lines = lines_of(file);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].size() == 23 + std::string(" error: connect failed").size());
  CHECK(lines[0].substr(4, 1) == "-");
  CHECK(lines[0].substr(10, 1) == " ");
  CHECK(lines[0].ends_with(" error: connect failed"));
  CHECK(lines[1].ends_with(" info: authenticating as alice"));
  std::rewind(err);
  char buffer[512] = {};
  const size_t n = std::fread(buffer, 1, sizeof buffer - 1, err);
  std::fclose(err);
  const std::string err_text(buffer, n);
  CHECK(err_text.find("tspc error: connect failed\n") != std::string::npos);
  CHECK(err_text.find("authenticating") == std::string::npos);

  SECTION("-vvv raises the file level; the password never appears") {
    std::FILE* err2 = std::tmpfile();
    {
      ClientLog log(cfg, 3, err2);
      CHECK(log.stderr_level() == 3);
      CHECK(log.file_level() == 3);
      log.debug(std::string("AUTH \0alice\0s3cret!\r\n", 21));
      log.debug("<tunnel>\r\n  <x>s3cret!s3cret!</x>\r\n</tunnel>");
      CHECK(log.redact("a s3cret! b") == "a ******** b");
    }
    std::fclose(err2);
    const auto text = read_text(dir.path / "tspc.log");
    CHECK(text.find("s3cret") == std::string::npos);
    CHECK(text.find("debug: AUTH \\x00alice\\x00********\n") != std::string::npos);
    CHECK(text.find("debug: <tunnel>\n") != std::string::npos);
    CHECK(text.find("debug:   <x>****************</x>\n") != std::string::npos);
  }
  SECTION("log_file=0: no file, and -v does not create one") {
    cfg.log_file = 0;
    cfg.log_filename = (dir.path / "none.log").string();
    ClientLog log(cfg, 3, nullptr);
    CHECK(log.file_level() == 0);
    CHECK(log.stderr_level() == 0);
    log.error("x");
    CHECK_FALSE(fs::exists(dir.path / "none.log"));
  }
  SECTION("an unopenable log file is a clear error") {
    cfg.log_filename = (dir.path / "missing" / "tspc.log").string();
    CHECK_THROWS_WITH(ClientLog(cfg, 0, nullptr),
                      "cannot open log file " + cfg.log_filename + ": No such file or directory");
  }
  SECTION("rotation at log_rotation_size") {
    cfg.log_rotation_size = 16;
    const std::string filler(100, 'x');
    {
      ClientLog log(cfg, 0, nullptr);
      for (int i = 0; i < 200; ++i) log.info(filler);
    }
    int rotated = 0;
    for (const auto& entry : fs::directory_iterator(dir.path))
      if (entry.path().filename().string().starts_with("tspc.log.")) ++rotated;
    CHECK(rotated >= 1);
    CHECK(fs::file_size(dir.path / "tspc.log") < 16 * 1024 + 200);
  }
  SECTION("redact() alone") {
    CHECK(redact("pw=abc, again abc", "abc") == "pw=********, again ********");
    CHECK(redact("nothing to hide", "") == "nothing to hide");
    CHECK(redact("aaaa", "aa") == "****************");
  }
}

TEST_CASE("runner: exit status, output into the log, environment", "[tspc_template]") {
  TempDir dir;
  auto cfg = logged_config(dir.path);
  cfg.tsp_dir = dir.path.string();
  cfg.template_name = "probe";
  write_script(dir.path / "template" / "probe.sh",
               "echo \"mode=$TSP_TUNNEL_MODE op=$TSP_OPERATION parent=$TSPC_TEST_PARENT\"\n"
               "echo oops >&2\n"
               "read line && echo \"stdin had: $line\"\n"
               "exit 7\n");
  setenv("TSPC_TEST_PARENT", "inherited", 1);
  setenv("TSP_TUNNEL_MODE", "stale", 1);  // ours must replace the parent's
  TemplateResult result;
  {
    ClientLog log(cfg, 0, nullptr);
    result = run_template(cfg, host_v6v4(), TemplateOperation::Teardown, log);
  }
  unsetenv("TSP_TUNNEL_MODE");
  unsetenv("TSPC_TEST_PARENT");
  CHECK(result.exit_status == 7);
  CHECK_FALSE(result.timed_out);
  CHECK(result.output == "mode=v6v4 op=TSP_TUNNEL_TEARDOWN parent=inherited\noops\n");
  const auto text = read_text(dir.path / "tspc.log");
  CHECK(text.find("info: running template " + (dir.path / "template" / "probe.sh").string() + " (teardown)\n") != std::string::npos);
  CHECK(text.find("debug: template variable TSP_CLIENT_ADDRESS_IPV6=2001:db8:0:1::2\n") != std::string::npos);
  CHECK(text.find("debug: template variable TSP_OPERATION=TSP_TUNNEL_TEARDOWN\n") != std::string::npos);
  CHECK(text.find("debug: probe.sh: mode=v6v4 op=TSP_TUNNEL_TEARDOWN parent=inherited\n") != std::string::npos);
  CHECK(text.find("debug: probe.sh: oops\n") != std::string::npos);
  CHECK(text.find("error: template " + (dir.path / "template" / "probe.sh").string() +
                  " (teardown) failed with exit status 7\n") != std::string::npos);
}

TEST_CASE("runner: time limit kills the script and its children", "[tspc_template]") {
  TempDir dir;
  auto cfg = logged_config(dir.path);
  cfg.tsp_dir = dir.path.string();
  cfg.template_name = "slow";
  write_script(dir.path / "template" / "slow.sh", "echo started\nsleep 30\necho never\n");
  ClientLog log(cfg, 0, nullptr);
  const auto start = std::chrono::steady_clock::now();
  const auto result = run_template(cfg, host_v6v4(), TemplateOperation::Creation, log, std::chrono::milliseconds(300));
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(result.timed_out);
  CHECK(result.exit_status == 128 + 9);
  CHECK(result.output == "started\n");
  CHECK(took < std::chrono::seconds(5));
  CHECK(read_text(dir.path / "tspc.log").find("(creation) killed after 0.3 s (time limit)") != std::string::npos);
}

TEST_CASE("runner: a background child holding the pipe does not hold the runner", "[tspc_template]") {
  TempDir dir;
  auto cfg = logged_config(dir.path);
  cfg.tsp_dir = dir.path.string();
  cfg.template_name = "daemon";
  write_script(dir.path / "template" / "daemon.sh", "sleep 3 &\necho started daemon\nexit 0\n");
  ClientLog log(cfg, 0, nullptr);
  const auto start = std::chrono::steady_clock::now();
  const auto result = run_template(cfg, host_v6v4(), TemplateOperation::Creation, log);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  CHECK(result.exit_status == 0);
  CHECK(result.output == "started daemon\n");
}

TEST_CASE("runner: a missing script is a clear error", "[tspc_template]") {
  TempDir dir;
  auto cfg = logged_config(dir.path);
  cfg.tsp_dir = dir.path.string();
  cfg.template_name = "nope";
  ClientLog log(cfg, 0, nullptr);
  CHECK_THROWS_WITH(run_template(cfg, host_v6v4(), TemplateOperation::Creation, log),
                    "template script " + cfg.tsp_dir + "/template/nope.sh: No such file or directory");
  fs::create_directories(dir.path / "template" / "dir.sh");
  cfg.template_name = "dir";
  CHECK_THROWS_WITH(run_template(cfg, host_v6v4(), TemplateOperation::Creation, log),
                    "template script " + cfg.tsp_dir + "/template/dir.sh: not a regular file");
}

// ---------------------------------------------------------------- the shipped scripts
namespace {

// A fake `ip` and `sysctl` first in PATH: they append "ip ARGS" / "sysctl ARGS" to
// $FAKE_LOG. `ip link show dev X` succeeds only for X in $FAKE_IP_LINKS; `ip tunnel add`
// fails when FAKE_IP_NO_SIT is set; `sysctl -n ...forwarding` prints $FAKE_FORWARDING.
struct FakeTools {
  TempDir dir;
  std::string old_path = std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin";
  FakeTools(const std::string& links, const std::string& forwarding, bool no_sit) {
    write_script(dir.path / "bin" / "ip",
                 "#!/bin/sh\n"
                 "echo \"ip $*\" >>\"$FAKE_LOG\"\n"
                 "case \"$*\" in\n"
                 "  \"link show dev \"*)\n"
                 "    for l in $FAKE_IP_LINKS; do [ \"link show dev $l\" = \"$*\" ] && exit 0; done\n"
                 "    echo 'Device does not exist.' >&2; exit 1 ;;\n"
                 "  \"tunnel add \"*) [ -n \"${FAKE_IP_NO_SIT:-}\" ] && { echo 'add tunnel \"sit0\" failed: No such device' >&2; exit 1; } ;;\n"
                 "esac\n"
                 "exit 0\n");
    write_script(dir.path / "bin" / "sysctl",
                 "#!/bin/sh\n"
                 "echo \"sysctl $*\" >>\"$FAKE_LOG\"\n"
                 "[ \"$*\" = '-n net.ipv6.conf.all.forwarding' ] && echo \"$FAKE_FORWARDING\"\n"
                 "exit 0\n");
    setenv("PATH", ((dir.path / "bin").string() + ":" + old_path).c_str(), 1);
    setenv("FAKE_LOG", (dir.path / "calls").c_str(), 1);
    setenv("FAKE_IP_LINKS", links.c_str(), 1);
    setenv("FAKE_FORWARDING", forwarding.c_str(), 1);
    if (no_sit) setenv("FAKE_IP_NO_SIT", "1", 1);
    setenv("TSP_STATE_DIR", (dir.path / "state").c_str(), 1);
  }
  ~FakeTools() {
    setenv("PATH", old_path.c_str(), 1);
    for (const char* name : {"FAKE_LOG", "FAKE_IP_LINKS", "FAKE_FORWARDING", "FAKE_IP_NO_SIT", "TSP_STATE_DIR"})
      unsetenv(name);
  }
  // The commands recorded since the last call.
  std::vector<std::string> take_calls() {
    auto calls = lines_of(read_text(dir.path / "calls"));
    fs::remove(dir.path / "calls");
    return calls;
  }
};

TspcConfig shipped_template(const fs::path& log_dir, const char* name) {
  auto cfg = logged_config(log_dir);
  cfg.tsp_dir = std::string(TSP_SOURCE_DIR) + "/tools/tspc";
  cfg.template_name = name;
  cfg.if_prefix = "eth1";
  return cfg;
}

using Calls = std::vector<std::string>;

Calls operator+(Calls a, const Calls& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// What linux.sh does on interface `dev` for every tunnel (host_v6v4()'s and router_info()'s
// address 2001:db8:0:1::2): up with the tunnel MTU, the /128, the default routes; and its undoing.
Calls address_and_routes_on(const std::string& dev) {
  return {"ip link set dev " + dev + " mtu 1280 up", "ip -6 addr replace 2001:db8:0:1::2/128 dev " + dev,
          "ip -6 route replace ::/0 dev " + dev + " metric 1", "ip -6 route replace 2000::/3 dev " + dev + " metric 1"};
}
Calls routes_and_address_removed_from(const std::string& dev) {
  return {"ip -6 route del 2000::/3 dev " + dev + " metric 1", "ip -6 route del ::/0 dev " + dev + " metric 1",
          "ip -6 addr del 2001:db8:0:1::2/128 dev " + dev};
}

// Gone or a zombie (an orphan's zombie waits for an init that may not reap in a container).
bool running(pid_t pid) {
  const auto stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  const auto paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

}  // namespace

TEST_CASE("linux.sh: host v6v4 makes a sit tunnel and removes it", "[tspc_linux_sh]") {
  FakeTools fake("", "0", false);
  const auto cfg = shipped_template(fake.dir.path, "linux");
  ClientLog log(cfg, 0, nullptr);
  auto result = run_template(cfg, host_v6v4(), TemplateOperation::Creation, log);
  INFO(result.output);
  CHECK(result.exit_status == 0);
  CHECK(fake.take_calls() == Calls{
      "ip link show dev sit1",
      "ip tunnel add sit1 mode sit remote 192.0.2.1 local 198.51.100.7 ttl 64",
  } + address_and_routes_on("sit1"));
  result = run_template(cfg, host_v6v4(), TemplateOperation::Teardown, log);
  CHECK(result.exit_status == 0);
  CHECK(fake.take_calls() == routes_and_address_removed_from("sit1") + Calls{
      "ip tunnel del sit1",
  });
  // A second teardown only removes what might be left, and never the interface it did not make.
  result = run_template(cfg, host_v6v4(), TemplateOperation::Teardown, log);
  CHECK(result.exit_status == 0);
  CHECK(fake.take_calls().back() == "ip link set dev sit1 down");
}

TEST_CASE("linux.sh: v6v4 without sit fails clearly; on tspc's TUN it configures it", "[tspc_linux_sh]") {
  SECTION("no sit and no interface") {
    FakeTools fake("", "0", true);
    const auto cfg = shipped_template(fake.dir.path, "linux");
    ClientLog log(cfg, 0, nullptr);
    const auto result = run_template(cfg, host_v6v4(), TemplateOperation::Creation, log);
    CHECK(result.exit_status == 1);
    CHECK(result.output.find("linux.sh: error: command failed: ip tunnel add sit1 mode sit") != std::string::npos);
  }
  SECTION("the TUN exists") {
    FakeTools fake("sit1", "0", true);
    const auto cfg = shipped_template(fake.dir.path, "linux");
    ClientLog log(cfg, 0, nullptr);
    auto result = run_template(cfg, host_v6v4(), TemplateOperation::Creation, log);
    CHECK(result.exit_status == 0);
    CHECK(fake.take_calls() == Calls{
        "ip link show dev sit1",
    } + address_and_routes_on("sit1"));
    result = run_template(cfg, host_v6v4(), TemplateOperation::Teardown, log);
    CHECK(fake.take_calls() == routes_and_address_removed_from("sit1") + Calls{
        "ip link set dev sit1 down",
    });
  }
}

TEST_CASE("linux.sh: host v6udpv4 configures tspc's TUN", "[tspc_linux_sh]") {
  FakeTools fake("tun", "0", false);
  const auto cfg = shipped_template(fake.dir.path, "linux");
  ClientLog log(cfg, 0, nullptr);
  auto info = host_v6v4();
  info.mode = "v6udpv4";
  auto result = run_template(cfg, info, TemplateOperation::Creation, log);
  CHECK(result.exit_status == 0);
  CHECK(fake.take_calls() == Calls{
      "ip link show dev tun",
  } + address_and_routes_on("tun"));
  result = run_template(cfg, info, TemplateOperation::Teardown, log);
  CHECK(fake.take_calls() == routes_and_address_removed_from("tun") + Calls{
      "ip link set dev tun down",
  });
  // Without the TUN there is nothing to configure.
  FakeTools none("", "0", false);
  result = run_template(cfg, info, TemplateOperation::Creation, log);
  CHECK(result.exit_status == 1);
  CHECK(result.output.find("interface tun does not exist") != std::string::npos);
}

TEST_CASE("linux.sh: router with a /48 over v6v4", "[tspc_linux_sh]") {
  FakeTools fake("", "0", false);
  const auto cfg = shipped_template(fake.dir.path, "linux");
  ClientLog log(cfg, 0, nullptr);
  const auto info = router_info("v6v4", "2001:0db8:0042:0000:0000:0000:0000:0000", 48);
  auto result = run_template(cfg, info, TemplateOperation::Creation, log);
  INFO(result.output);
  CHECK(result.exit_status == 0);
  CHECK(fake.take_calls() == Calls{
      "ip link show dev sit1",
      "ip tunnel add sit1 mode sit remote 192.0.2.1 local 198.51.100.7 ttl 64",
  } + address_and_routes_on("sit1") + Calls{
      "sysctl -n net.ipv6.conf.all.forwarding",
      "sysctl -q -w net.ipv6.conf.all.forwarding=1",
      "ip -6 route replace blackhole 2001:0db8:0042::/48",
      "ip link set dev eth1 up",
      "ip -6 addr replace 2001:0db8:0042::1/64 dev eth1",
  });
  result = run_template(cfg, info, TemplateOperation::Teardown, log);
  CHECK(result.exit_status == 0);
  CHECK(fake.take_calls() == Calls{
      "ip -6 addr del 2001:0db8:0042::1/64 dev eth1",
      "ip -6 route del blackhole 2001:0db8:0042::/48",
      "sysctl -q -w net.ipv6.conf.all.forwarding=0",
  } + routes_and_address_removed_from("sit1") + Calls{
      "ip tunnel del sit1",
  });
}

TEST_CASE("linux.sh: router with a /64 over v6udpv4, forwarding already on", "[tspc_linux_sh]") {
  FakeTools fake("tun", "1", false);
  const auto cfg = shipped_template(fake.dir.path, "linux");
  ClientLog log(cfg, 0, nullptr);
  const auto info = router_info("v6udpv4", "2001:0db8:0001:0002:0000:0000:0000:0000", 64);
  auto result = run_template(cfg, info, TemplateOperation::Creation, log);
  INFO(result.output);
  CHECK(result.exit_status == 0);
  CHECK(fake.take_calls() == Calls{
      "ip link show dev tun",
  } + address_and_routes_on("tun") + Calls{
      "sysctl -n net.ipv6.conf.all.forwarding",
      "ip link set dev eth1 up",
      "ip -6 addr replace 2001:0db8:0001:0002::1/64 dev eth1",
  });
  result = run_template(cfg, info, TemplateOperation::Teardown, log);
  CHECK(fake.take_calls() == Calls{
      "ip -6 addr del 2001:0db8:0001:0002::1/64 dev eth1",
  } + routes_and_address_removed_from("tun") + Calls{
      "ip link set dev tun down",
  });
}

TEST_CASE("checktunnel.sh prints every TSP_* variable and checks the required ones", "[tspc_checktunnel]") {
  TempDir dir;
  const auto cfg = shipped_template(dir.path, "checktunnel");
  ClientLog log(cfg, 0, nullptr);
  const std::string out_file = (dir.path / "vars.txt").string();
  setenv("TSP_CHECKTUNNEL_OUT", out_file.c_str(), 1);
  auto result = run_template(cfg, router_info("v6v4", "2001:db8:1:2::", 64), TemplateOperation::Creation, log);
  CHECK(result.exit_status == 0);
  const std::string expected =
      "TSP_CHECKTUNNEL_OUT=" + out_file + "\n"
      "TSP_CLIENT_ADDRESS_IPV4=198.51.100.7\n"
      "TSP_CLIENT_ADDRESS_IPV6=2001:db8:0:1::2\n"
      "TSP_CLIENT_DNS_ADDRESS_IPV6=2001:db8::53\n"
      "TSP_HOME_DIR=" + cfg.tsp_dir + "\n"
      "TSP_HOME_INTERFACE=eth1\n"
      "TSP_HOST_TYPE=router\n"
      "TSP_OPERATION=TSP_TUNNEL_CREATION\n"
      "TSP_PREFIX=2001:0db8:0001:0002\n"
      "TSP_PREFIXLEN=64\n"
      "TSP_SERVER_ADDRESS_IPV4=192.0.2.1\n"
      "TSP_SERVER_ADDRESS_IPV6=2001:db8:0:1::1\n"
      "TSP_TUNNEL_INTERFACE=sit1\n"
      "TSP_TUNNEL_MODE=v6v4\n"
      "TSP_TUNNEL_PREFIXLEN=128\n"
      "TSP_VERBOSE=3\n";
  CHECK(result.output == expected);
  CHECK(read_text(out_file) == expected + "--\n");
  unsetenv("TSP_CHECKTUNNEL_OUT");

  // A router without a prefix: the script names what is missing.
  auto info = router_info("v6v4", "", 0);
  result = run_template(cfg, info, TemplateOperation::Teardown, log);
  CHECK(result.exit_status == 1);
  CHECK(result.output.ends_with("checktunnel.sh: TSP_PREFIX is not set\n"));
}

TEST_CASE("linux.sh: router with TSP_RADVD=yes starts radvd and stops it on teardown", "[tspc_linux_sh]") {
  FakeTools fake("tun", "1", false);
  // A fake radvd: records its arguments, keeps a copy of its config, leaves a process
  // behind whose pid it writes to the -p file, as the real daemon does.
  write_script(fake.dir.path / "bin" / "radvd",
               "#!/bin/sh\n"
               "echo \"radvd $*\" >>\"$FAKE_LOG\"\n"
               "cp \"$2\" \"$FAKE_DIR/radvd.conf\"\n"
               "sleep 60 >/dev/null 2>&1 &\n"
               "echo $! >\"$4\"\n");
  setenv("FAKE_DIR", fake.dir.path.c_str(), 1);
  setenv("TSP_RADVD", "yes", 1);
  const auto cfg = shipped_template(fake.dir.path, "linux");
  ClientLog log(cfg, 0, nullptr);
  const auto info = router_info("v6udpv4", "2001:db8:1:2::", 64);
  auto result = run_template(cfg, info, TemplateOperation::Creation, log);
  INFO(result.output);
  CHECK(result.exit_status == 0);
  const auto calls = fake.take_calls();
  REQUIRE(calls.size() == 9);
  // State files are named <netns inode>-<interface>.
  std::string netns;
  for (char c : fs::read_symlink("/proc/self/ns/net").string())
    if (c >= '0' && c <= '9') netns += c;
  const std::string state = (fake.dir.path / "state").string(), key = netns + "-tun";
  CHECK(calls[8].starts_with("radvd -C " + state + "/" + key + ".radvd.conf."));
  CHECK(calls[8].ends_with(" -p " + state + "/" + key + ".radvd.pid"));
  CHECK(read_text(fake.dir.path / "radvd.conf") ==
        "interface eth1 {\n"
        "  AdvSendAdvert on;\n"
        "  prefix 2001:0db8:0001:0002::/64 { AdvOnLink on; AdvAutonomous on; };\n"
        "};\n");
  const pid_t radvd = std::stoi(read_text(state + "/" + key + ".radvd.pid"));
  CHECK(running(radvd));

  result = run_template(cfg, info, TemplateOperation::Teardown, log);
  CHECK(result.exit_status == 0);
  for (int i = 0; i < 100 && running(radvd); ++i) usleep(20'000);
  CHECK_FALSE(running(radvd));
  CHECK(fs::is_empty(state));  // pid file, config and its note removed
  unsetenv("TSP_RADVD");
  unsetenv("FAKE_DIR");
}

TEST_CASE("log: syslog level is the higher of log_syslog and syslog_level", "[tspc_log]") {
  TempDir dir;
  auto cfg = logged_config(dir.path);
  cfg.log_file = 0;
  cfg.log_syslog = 1;
  cfg.syslog_level = 3;
  cfg.syslog_facility = "LOCAL5";
  ClientLog log(cfg, 0, nullptr);
  CHECK(log.syslog_level() == 3);
  CHECK(log.enabled(3));
  log.debug("tspc unit test: syslog destination");  // must not fail without a syslog daemon
}
