// Marks the live daemons when an assertion fails, so that their logs are printed (see
// BrokerProcess::note_failure) and a failing e2e run explains itself.
#define CATCH_CONFIG_EXTERNAL_INTERFACES
#include <catch2/catch.hpp>

#include "tests/e2e/broker_process.hpp"

namespace tsp::e2e {
namespace {

struct BrokerLogOnFailure : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;

  bool assertionEnded(Catch::AssertionStats const& stats) override {
    if (!stats.assertionResult.isOk())
      for (BrokerProcess* broker : live_brokers()) broker->note_failure();
    return true;
  }
};

}  // namespace

CATCH_REGISTER_LISTENER(BrokerLogOnFailure)

}  // namespace tsp::e2e
