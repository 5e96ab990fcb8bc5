#include "tools/tspc/redirect.hpp"

#include <algorithm>
#include <future>

#include "tools/tspc/reply_parser.hpp"

namespace tsp::tspc {

std::vector<std::string> order_brokers(const std::vector<BrokerProbe>& probes) {
  std::vector<const BrokerProbe*> sorted;
  for (const auto& p : probes) sorted.push_back(&p);
  std::stable_sort(sorted.begin(), sorted.end(), [](const BrokerProbe* a, const BrokerProbe* b) {
    if (a->rtt && b->rtt) return *a->rtt < *b->rtt;
    return a->rtt.has_value() && !b->rtt.has_value();
  });
  std::vector<std::string> out;
  for (const auto* p : sorted) out.push_back(p->address);
  return out;
}

std::optional<std::chrono::milliseconds> probe_broker(const BrokerTarget& target, const LogFn& log) {
  try {
    TransportSettings settings;
    settings.server = target.address;
    settings.port = target.port;
    auto transport = open_udp_transport(settings);
    const auto start = std::chrono::steady_clock::now();
    const std::string reply = transport->exchange("ECHO REQUEST");
    const auto rtt = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    if (leading_status_code(reply) == 200) return rtt;
    if (log) log(2, "broker " + target.text + " answered ECHO REQUEST with \"" + first_line(reply) + "\"");
  } catch (const TransportError& e) {
    if (log) log(2, "broker " + target.text + " did not answer ECHO REQUEST: " + e.what());
  }
  return std::nullopt;
}

std::vector<std::string> rank_brokers(const std::vector<std::string>& brokers, const LogFn& log) {
  std::vector<std::future<std::optional<std::chrono::milliseconds>>> pending;
  for (const auto& address : brokers) {
    auto resolved = resolve_broker(address, 3653, address);
    if (const auto* target = std::get_if<BrokerTarget>(&resolved)) {
      pending.push_back(std::async(std::launch::async, [t = *target] { return probe_broker(t, LogFn{}); }));
    } else {
      if (log) log(2, "redirection: skipping broker " + std::get<std::string>(resolved));
      pending.push_back(std::async(std::launch::deferred, [] { return std::optional<std::chrono::milliseconds>{}; }));
    }
  }
  std::vector<BrokerProbe> probes;
  for (size_t i = 0; i < brokers.size(); ++i) {
    probes.push_back({brokers[i], pending[i].get()});
    if (log) {
      log(2, "broker " + brokers[i] + ": " +
                 (probes.back().rtt ? std::to_string(probes.back().rtt->count()) + " ms" : std::string("no answer")));
    }
  }
  return order_brokers(probes);
}

}  // namespace tsp::tspc
