// Waiting for what the daemon does on threads of its own after the client's part is done (a
// file written, a connection's slot given back): the e2e tests' one way to poll.
#pragma once

#include <chrono>
#include <thread>

namespace tsp::e2e {

// Polls `done` every 20 ms for up to `limit`; its last answer.
template <typename F>
bool eventually(F done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace tsp::e2e
