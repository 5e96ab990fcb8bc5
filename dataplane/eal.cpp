#include "dataplane/eal.hpp"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>

#include <algorithm>
#include <mutex>
#include <stdexcept>

namespace tsp::dp {

namespace {

std::mutex eal_mutex;
std::weak_ptr<Eal> running_eal;  // eal_mutex
bool eal_was_shut_down = false;  // eal_mutex

std::string joined(const std::vector<std::string>& args) {
  std::string out;
  for (const auto& a : args) (out += ' ') += a;
  return out;
}

}  // namespace

std::shared_ptr<Eal> Eal::acquire(const std::vector<std::string>& args) {
  std::lock_guard lock(eal_mutex);
  if (auto eal = running_eal.lock()) {
    if (eal->args_ != args) {
      throw std::runtime_error("DPDK EAL is already running in this process with other arguments (" +
                               joined(eal->args_) + " ) than asked for (" + joined(args) + " )");
    }
    return eal;
  }
  if (eal_was_shut_down) {
    throw std::runtime_error("DPDK EAL was shut down earlier in this process and cannot start again "
                             "(rte_eal_init runs once per process): restart the process");
  }
  std::shared_ptr<Eal> eal(new Eal(args));
  running_eal = eal;
  return eal;
}

Eal::Eal(std::vector<std::string> args) : args_(std::move(args)) {
  // rte_eal_init may reorder argv and keep pointers into it: it gets copies that live as long
  // as EAL does.
  argv_storage_.reserve(args_.size() + 1);
  argv_storage_.emplace_back(kProgramName);
  argv_storage_.insert(argv_storage_.end(), args_.begin(), args_.end());
  std::vector<char*> argv;
  for (auto& s : argv_storage_) argv.push_back(s.data());
  argv.push_back(nullptr);

  const int argc = static_cast<int>(argv_storage_.size());
  const int parsed = rte_eal_init(argc, argv.data());
  if (parsed < 0) {
    const int err = rte_errno;
    if (err == EALREADY) {
      throw std::runtime_error("DPDK EAL was initialised in this process by someone else (rte_eal_init "
                               "runs once per process)");
    }
    const auto has = [&](const char* arg) { return std::find(args_.begin(), args_.end(), arg) != args_.end(); };
    const std::string hint = has("--no-huge") && has("--in-memory")
                                 ? "; --in-memory needs hugepages: with --no-huge use --no-shconf"
                                 : "";
    throw std::runtime_error("DPDK EAL initialisation failed with arguments" + joined(args_) + ": " +
                             rte_strerror(err) + " (EAL's log above says why" + hint + ")");
  }
  if (parsed + 1 < argc) {
    // rte_eal_init stops at the first word that is not an EAL option.
    std::string rest;
    for (int i = parsed + 1; i < argc; ++i) (rest += ' ') += argv[static_cast<size_t>(i)];
    rte_eal_cleanup();
    eal_was_shut_down = true;
    throw std::runtime_error("not EAL options:" + rest + " (the 'eal' lines take DPDK EAL arguments only)");
  }
}

Eal::~Eal() {
  rte_eal_cleanup();
  std::lock_guard lock(eal_mutex);
  eal_was_shut_down = true;
}

unsigned Eal::main_lcore() const { return rte_get_main_lcore(); }

std::vector<unsigned> Eal::worker_lcores() const {
  std::vector<unsigned> lcores;
  unsigned lcore = 0;
  RTE_LCORE_FOREACH_WORKER(lcore) { lcores.push_back(lcore); }
  return lcores;
}

}  // namespace tsp::dp
