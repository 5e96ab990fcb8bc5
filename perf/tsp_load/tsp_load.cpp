// tsp_load: emulates N TSP clients against a running tspbrokerd and reports sessions per
// second to a completed accept, latency percentiles and failures by cause (perf/README.md).
//   tsp_load --clients 10000 --transport udp,tcp --auth digest-md5,anonymous
//            --host-type host,router --concurrency 256
// DIGEST-MD5 and PLAIN clients log in as <user-prefix><n> with one shared password: create them first
// (tsp_load_users). Exit status: 0 when every session completed, 1 when some failed, 2 on
// a usage or setup error.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "perf/tsp_load/load_runner.hpp"
#include "shared/fd_limit.hpp"

namespace {

using namespace tsp::load;

template <typename T>
std::vector<T> parse_list(const std::string& text, const char* what,
                          const std::vector<std::pair<std::string, T>>& names) {
  std::vector<T> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t comma = std::min(text.find(',', pos), text.size());
    const std::string word = text.substr(pos, comma - pos);
    bool found = false;
    for (const auto& [name, value] : names)
      if (name == word) {
        out.push_back(value);
        found = true;
      }
    if (!found) {
      std::string valid;
      for (const auto& [name, value] : names) {
        if (!valid.empty()) valid += ", ";
        valid += name;
      }
      throw CLI::ValidationError(what, "unknown value '" + word + "' (use " + valid + ")");
    }
    pos = comma + 1;
  }
  return out;
}


}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tsp_load: emulate many TSP clients against a running tspbrokerd"};
  LoadPlan plan;
  std::string server = "127.0.0.1", source_base = plan.source_base.to_string();
  std::string transports = "udp", auths = "anonymous", host_types = "host", tcp_finish = "echo";
  app.add_option("--server", server, "broker IPv4 address")->capture_default_str();
  app.add_option("--port", plan.port, "broker TSP port (UDP and TCP)")->capture_default_str();
  app.add_option("--clients", plan.clients, "sessions to run, one client each")->capture_default_str();
  app.add_option("--first-index", plan.first_index,
                 "number of the first client (its user name and source address)")->capture_default_str();
  app.add_option("--concurrency", plan.concurrency, "sessions in flight at once")->capture_default_str()
      ->check(CLI::Range(1, 16384));
  app.add_option("--threads", plan.threads, "load threads, each with its own epoll loop")->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--transport", transports, "mix: udp,tcp")->capture_default_str();
  app.add_option("--auth", auths, "mix: anonymous,digest-md5,plain")->capture_default_str();
  app.add_option("--host-type", host_types, "mix: host,router (anonymous clients are always hosts)")
      ->capture_default_str();
  app.add_option("--tunnel-type", plan.tunnel_type, "requested type: v6anyv4, v6v4, v6udpv4")->capture_default_str();
  app.add_option("--prefix-length", plan.prefix_length, "router prefix length asked for")->capture_default_str();
  app.add_option("--user-prefix", plan.user_prefix, "DIGEST-MD5 and PLAIN user names are <prefix><n>")->capture_default_str();
  app.add_option("--password", plan.password, "password of every DIGEST-MD5 and PLAIN user")->capture_default_str();
  app.add_option("--source-base", source_base, "client n sends from <source-base> + n (on loopback: 127/8)")
      ->capture_default_str();
  app.add_flag("--behind-nat", plan.behind_nat, "declare 10.x.y.z addresses: the broker sees every client behind a NAT");
  app.add_option("--tcp-finish", tcp_finish,
                 "echo: an ECHO REQUEST after the accept confirms it; accept: done once the accept is written")
      ->capture_default_str();
  app.add_option("--udp-rto-ms", plan.udp_rto_ms, "UDP retransmission time-out")->capture_default_str();
  app.add_option("--udp-tries", plan.udp_tries, "UDP transmissions before a time-out")->capture_default_str()
      ->check(CLI::Range(1, 10));
  app.add_option("--tcp-timeout-ms", plan.tcp_timeout_ms, "TCP silence before a time-out")->capture_default_str();
  try {
    app.parse(argc, argv);
    const auto server_addr = tsp::Ipv4Addr::parse(server);
    const auto base = tsp::Ipv4Addr::parse(source_base);
    if (!server_addr) throw CLI::ValidationError("--server", "not an IPv4 address: " + server);
    if (!base) throw CLI::ValidationError("--source-base", "not an IPv4 address: " + source_base);
    plan.server = *server_addr;
    plan.source_base = *base;
    if (uint64_t{base->value} + plan.first_index + plan.clients > 0xffffffffu)
      throw CLI::ValidationError("--clients", "source addresses run past 255.255.255.255");
    plan.transports = parse_list<Transport>(transports, "--transport", {{"udp", Transport::Udp}, {"tcp", Transport::Tcp}});
    plan.auths = parse_list<AuthKind>(auths, "--auth",
                                      {{"anonymous", AuthKind::Anonymous}, {"digest-md5", AuthKind::DigestMd5},
                                       {"plain", AuthKind::Plain}});
    plan.host_types = parse_list<HostType>(host_types, "--host-type", {{"host", HostType::Host}, {"router", HostType::Router}});
    plan.tcp_finish = parse_list<TcpFinish>(tcp_finish, "--tcp-finish",
                                            {{"echo", TcpFinish::EchoConfirm}, {"accept", TcpFinish::AcceptSent}})
                          .front();
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  tsp::raise_fd_limit_to_hard();  // one descriptor per client
  try {
    const RunReport report = run_load(plan);
    std::fputs(format_report(report).c_str(), stdout);
    return report.total().failed() == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tsp_load: %s\n", e.what());
    return 2;
  }
}
