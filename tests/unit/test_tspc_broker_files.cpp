// broker_list and last_server (tsp-protocol.md §6): what tspc writes, what it reads back, and
// the clear refusal of anything else. The e2e test (test_tspc_loopback.cpp) uses them with two
// real brokers.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tools/tspc/broker_files.hpp"
#include "tools/tspc/connection.hpp"

using namespace tsp::tspc;

namespace {

class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "tspc-broker-files.XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

}  // namespace

TEST_CASE("broker_list: saved one address per line, read back nearest first", "[tspc][broker_files]") {
  ScratchDir dir;
  const std::string path = dir.file("tsp-broker-list.txt");
  REQUIRE(save_broker_list(path, {"192.0.2.3", "broker.example", "[2001:db8::1]"}).empty());
  CHECK(contents(path) == "192.0.2.3\nbroker.example\n[2001:db8::1]\n");
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));

  const BrokerFile f = read_broker_list(path);
  REQUIRE(f.state == BrokerFile::State::Read);
  REQUIRE(f.brokers.size() == 3);
  CHECK(f.brokers[0].host == "192.0.2.3");
  CHECK(f.brokers[0].port == kTspPort);
  CHECK(f.brokers[0].text == "192.0.2.3");
  CHECK(f.brokers[1].host == "broker.example");
  CHECK(f.brokers[2].host == "2001:db8::1");
  CHECK(f.brokers[2].is_ipv6);

  // A second redirection replaces the list whole.
  REQUIRE(save_broker_list(path, {"192.0.2.9"}).empty());
  CHECK(contents(path) == "192.0.2.9\n");
}

TEST_CASE("last_server: the broker as configured, port included", "[tspc][broker_files]") {
  ScratchDir dir;
  const std::string path = dir.file("tsp-last-server.txt");
  CHECK(read_last_server(path).state == BrokerFile::State::Missing);  // first start
  REQUIRE(save_last_server(path, "127.0.0.1:40123").empty());
  CHECK(contents(path) == "127.0.0.1:40123\n");
  const BrokerFile f = read_last_server(path);
  REQUIRE(f.state == BrokerFile::State::Read);
  REQUIRE(f.brokers.size() == 1);
  CHECK(f.brokers[0].host == "127.0.0.1");
  CHECK(f.brokers[0].port == 40123);
  CHECK(f.brokers[0].text == "127.0.0.1:40123");
}

TEST_CASE("broker files written by hand: blanks, CRLF and spaces are fine", "[tspc][broker_files]") {
  ScratchDir dir;
  const std::string path = dir.file("list");
  write(path, "\r\n  192.0.2.1 \r\n\n\tbroker.example:4000\t\n\n");
  const BrokerFile f = read_broker_list(path);
  REQUIRE(f.state == BrokerFile::State::Read);
  REQUIRE(f.brokers.size() == 2);
  CHECK(f.brokers[0].text == "192.0.2.1");
  CHECK(f.brokers[1].host == "broker.example");
  CHECK(f.brokers[1].port == 4000);
}

TEST_CASE("broker files that cannot be used say where and why", "[tspc][broker_files]") {
  ScratchDir dir;
  const std::string path = dir.file("f");
  const auto problem_of = [&](const std::string& text, bool last_server) {
    write(path, text);
    const BrokerFile f = last_server ? read_last_server(path) : read_broker_list(path);
    CHECK(f.state == BrokerFile::State::Invalid);
    CHECK(f.brokers.empty());
    return f.problem;
  };
  CHECK(problem_of("", false) == path + ": holds no address");
  CHECK(problem_of("\n \r\n", true) == path + ": holds no address");
  CHECK(problem_of("192.0.2.1\n300.1.1.1\n", false).starts_with(path + ":2: '300.1.1.1' is not a host name or address"));
  CHECK(problem_of("192.0.2.1:0\n", true).starts_with(path + ":1: '192.0.2.1:0' has a port that is not 1..65535"));
  CHECK(problem_of("[2001:db8::1\n", false).starts_with(path + ":1: '[2001:db8::1' has no closing ']'"));
  CHECK(problem_of("192.0.2.1\n192.0.2.2\n", true) == path + ":2: more than 1 address");
  CHECK(problem_of(std::string(255, 'a') + "\n", false) == path + ":1: an address longer than 254 characters");

  std::string fifty_one;
  for (int i = 1; i <= 51; ++i) fifty_one += "192.0.2." + std::to_string(i) + "\n";
  CHECK(problem_of(fifty_one, false) == path + ":51: more than 50 addresses");
  std::string fifty = fifty_one.substr(0, fifty_one.rfind("192.0.2.51"));
  write(path, fifty);
  CHECK(read_broker_list(path).brokers.size() == 50);

  CHECK(problem_of(std::string(70000, '\n'), false) == path + ": larger than 65536 bytes");
  // A directory where the file should be.
  const BrokerFile d = read_broker_list(dir.path());
  CHECK(d.state == BrokerFile::State::Invalid);
  CHECK(d.problem == dir.path() + ": Is a directory");
}

TEST_CASE("broker files that cannot be saved: the reason, and nothing left behind", "[tspc][broker_files]") {
  ScratchDir dir;
  const std::string missing_dir = dir.file("no-such-dir/tsp-last-server.txt");
  const std::string why = save_last_server(missing_dir, "192.0.2.1");
  CHECK(why == missing_dir + ".tmp: No such file or directory");

  // Over an existing directory: the temporary is written, the rename fails and it goes.
  const std::string over_dir = dir.file("taken");
  std::filesystem::create_directory(over_dir);
  std::filesystem::create_directory(over_dir + "/x");  // a non-empty directory cannot be replaced
  CHECK(save_broker_list(over_dir, {"192.0.2.1"}).starts_with(over_dir + ": "));
  CHECK_FALSE(std::filesystem::exists(over_dir + ".tmp"));
}

TEST_CASE("always_use_same_server with a last_server file tspc cannot use: exit 7, nothing sent",
          "[tspc][broker_files]") {
  ScratchDir dir;
  TspcConfig cfg;
  cfg.server = ServerAddress{"192.0.2.1", kTspPort, "192.0.2.1", false};  // never reached
  cfg.always_use_same_server = true;
  cfg.last_server = dir.file("last");
  write(cfg.last_server, "not an address!\n");
  std::vector<std::string> logged;
  ConnectOptions options;
  options.log = [&](int, std::string_view text) { logged.emplace_back(text); };
  const Connection c = connect_cycle(cfg, options);
  CHECK(c.outcome.kind == NegotiationOutcome::Kind::Failed);
  CHECK(c.outcome.code == ExitCode::LastServerFailed);
  CHECK(c.outcome.message.starts_with("last_server: " + cfg.last_server + ":1: 'not an address!'"));
  CHECK(logged.empty());  // no connection was tried
}
