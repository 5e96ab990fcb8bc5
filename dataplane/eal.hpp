// DPDK's environment abstraction layer (EAL): initialised once per process, shut down when its
// last holder lets go. DPDK allows rte_eal_init only once per process, even after
// rte_eal_cleanup, so a second start after a shutdown is refused with that reason.
//
// Lcores: the main lcore is the thread that initialised EAL (it goes on running the control
// plane); workers run on the others. `-l 0-1` gives one worker lcore; with a single lcore
// there is no worker lcore and Dataplane::start refuses (use e.g. `--lcores 0@0,1@0` to run a
// worker lcore on the main lcore's CPU, at the cost of the two sharing it).
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace tsp::dp {

class Eal {
 public:
  static constexpr const char* kProgramName = "tspbrokerd";

  // The running EAL, initialised with `args` (after the program name) if it is not up yet.
  // If it is up, `args` must be the ones it was started with. Throws std::runtime_error.
  static std::shared_ptr<Eal> acquire(const std::vector<std::string>& args);

  ~Eal();  // rte_eal_cleanup
  Eal(const Eal&) = delete;
  Eal& operator=(const Eal&) = delete;

  const std::vector<std::string>& args() const { return args_; }
  unsigned main_lcore() const;
  std::vector<unsigned> worker_lcores() const;  // in increasing order

 private:
  explicit Eal(std::vector<std::string> args);

  std::vector<std::string> args_;
  std::vector<std::string> argv_storage_;  // what rte_eal_init was given
};

}  // namespace tsp::dp
