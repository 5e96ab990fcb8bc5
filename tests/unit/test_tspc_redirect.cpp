// Broker redirection order: nearest answered broker first (tsp-protocol.md §6).
#include <catch2/catch.hpp>

#include "tools/tspc/broker_target.hpp"
#include "tools/tspc/redirect.hpp"

using namespace tsp::tspc;
using namespace std::chrono_literals;

TEST_CASE("brokers are walked nearest first, silent ones last in listed order", "[tspc][redirect]") {
  const std::vector<BrokerProbe> probes = {
      {"192.0.2.1", 80ms}, {"192.0.2.2", std::nullopt}, {"192.0.2.3", 5ms},
      {"broker.example", 80ms}, {"192.0.2.5", std::nullopt}, {"192.0.2.6", 20ms},
  };
  CHECK(order_brokers(probes) ==
        std::vector<std::string>{"192.0.2.3", "192.0.2.6", "192.0.2.1", "broker.example", "192.0.2.2", "192.0.2.5"});
  CHECK(order_brokers({}).empty());
  CHECK(order_brokers({{"a", std::nullopt}}) == std::vector<std::string>{"a"});
}

TEST_CASE("broker addresses: IPv4 literals, names, IPv6 refused", "[tspc][redirect]") {
  auto literal = resolve_broker("192.0.2.9", 4000, "192.0.2.9:4000");
  REQUIRE(std::holds_alternative<BrokerTarget>(literal));
  CHECK(std::get<BrokerTarget>(literal).address.to_string() == "192.0.2.9");
  CHECK(std::get<BrokerTarget>(literal).port == 4000);
  CHECK(std::get<BrokerTarget>(literal).text == "192.0.2.9:4000");
  auto local = resolve_broker("localhost", 3653, "localhost");
  REQUIRE(std::holds_alternative<BrokerTarget>(local));
  CHECK(std::get<BrokerTarget>(local).address.to_string() == "127.0.0.1");
  auto v6 = resolve_broker("2001:db8::1", 3653, "[2001:db8::1]");
  REQUIRE(std::holds_alternative<std::string>(v6));
  CHECK(std::get<std::string>(v6).find("IPv4 only") != std::string::npos);
  CHECK(std::holds_alternative<std::string>(resolve_broker("", 3653, "")));
  CHECK(std::holds_alternative<std::string>(resolve_broker("no-such-host.invalid", 3653, "x")));
}

TEST_CASE("sleep_unless_stopped returns at once when stopped", "[tspc][redirect]") {
  std::atomic<bool> stop{true};
  const auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(sleep_unless_stopped(10s, stop));
  CHECK(std::chrono::steady_clock::now() - start < 1s);
  stop = false;
  CHECK(sleep_unless_stopped(10ms, stop));
}
