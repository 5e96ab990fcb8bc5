// Keeps a zone file of the reverse delegations (reverse_zone.hpp) in step with the live
// tunnels, and tells the name server: after each change the file is rewritten whole (a
// temporary file, fsync, rename, so a name server never reads half of it) and the operator's
// reload command runs (`rndc reload ZONE`, `nsd-control reload`, `knotc zone-reload`...).
// The operator $INCLUDEs the file in the parent ip6.arpa zone.
//
// On a thread of its own: the write syncs the disk and the command may take seconds, neither
// of which may hold an I/O thread or the tunnel service. Changes are gathered: the first
// after a quiet spell is written at once, later ones at most once per `settle` (a restart's
// reload of every tunnel is one write). The live tunnels are the truth: the writer keeps its
// own copy of their delegations (one snapshot at its start, then each change the service tells
// it, so the service's mutex is never held for a copy of them all) and renders the whole file
// from it each time, so nothing is lost when a write or a command fails; it is tried again
// after `retry`. At start the file is written from the tunnels reloaded from the store, which
// also clears what a crash left in it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "control/dns/reverse_zone.hpp"

namespace tsp::dns {

struct DelegationOptions {
  std::string file;                          // the zone file written
  uint32_t ttl = 3600;                       // of the NS records
  std::vector<std::string> reload_command;   // argv, run without a shell after each write; empty: none
  friend bool operator==(const DelegationOptions&, const DelegationOptions&) = default;
};

// What the writer did so far (for /metrics and the tests).
struct DelegationStats {
  uint64_t writes = 0, write_failures = 0;
  uint64_t commands = 0, command_failures = 0;
  uint64_t zones = 0;          // in the file last written
  uint64_t skipped_names = 0;  // invalid names left out of it
  std::string last_error;      // empty after a full success
};

// The writer's own copy of the live delegations, by prefix in the zone file's order.
using DelegationSet = std::map<Ipv6Prefix, std::shared_ptr<const Delegation>, bool (*)(const Ipv6Prefix&, const Ipv6Prefix&)>;
inline DelegationSet empty_delegation_set() { return DelegationSet(prefix_before); }
// Applies `changes` in order (the last change of a prefix wins) and returns the set's list.
DelegationList apply_changes(DelegationSet& set, std::vector<DelegationChange>& changes);

class DelegationWriter {
 public:
  using Snapshot = std::function<DelegationList()>;
  // `snapshot` (the whole live set) is called on the writer's thread, never while the writer
  // holds its own lock: at the first pass, and after changed() without a change. Between
  // those the writer follows the changes it is told of and keeps the set itself.
  DelegationWriter(Snapshot snapshot, DelegationOptions options,
                   std::chrono::milliseconds settle = std::chrono::seconds(1),
                   std::chrono::milliseconds retry = std::chrono::seconds(5));
  ~DelegationWriter();  // stops the thread (a command under way is waited for, up to its limit)
  DelegationWriter(const DelegationWriter&) = delete;
  DelegationWriter& operator=(const DelegationWriter&) = delete;

  // One delegation changed: cheap (appended to a list), thread-safe, never calls back
  // (TunnelService reports it under its mutex).
  void changed(DelegationChange change);
  // Something changed, and the writer should take the whole set again.
  void changed();
  // A reload: the next write uses these (a new file is written at once; the old one stays).
  void set_options(DelegationOptions options);
  DelegationStats stats() const;

  // How long a reload command may run before it is killed.
  static constexpr std::chrono::seconds kCommandLimit{30};

 private:
  void run();
  // One pass: bring the set up to date, render, write if the text or the file changed, run
  // the command. False: retry.
  bool pass(const DelegationOptions& options, bool resync);
  // The set as of now: the whole of it from snapshot_ when `resync`, then the changes told.
  DelegationList follow(bool resync);

  Snapshot snapshot_;
  std::chrono::milliseconds settle_, retry_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  DelegationOptions options_;  // under mu_
  bool dirty_ = true;          // under mu_: write at start
  bool resync_ = true;         // under mu_: take the whole set at the next pass
  std::vector<DelegationChange> changes_;  // under mu_: told since the last pass
  bool stopping_ = false;      // under mu_
  std::chrono::steady_clock::time_point not_before_{};  // under mu_: the next pass's earliest time
  DelegationStats stats_;      // under mu_
  // The writer thread's own: what is in the file now and under which options (a reload that
  // changes them writes and runs the command again), and whether the command still owes a run.
  std::string written_text_;
  DelegationOptions written_options_;
  bool command_owed_ = false;
  DelegationSet current_ = empty_delegation_set();
  std::thread thread_;  // last: starts once everything above is ready
};

// Writes `text` to `path` so that a reader sees the old file or the new one, never a part:
// `path`.tmp, fsync, rename, fsync of the directory. False with the reason in `error`.
bool replace_file(const std::string& path, const std::string& text, std::string& error);

// Runs `argv` (no shell; PATH searched) with the environment plus TSP_DELEGATION_FILE and
// TSP_DELEGATION_ZONES, stdin from /dev/null and the daemon's other descriptors closed; waits
// up to `limit`, then kills it. False with what went wrong (exit status or signal, and the
// start of its output) in `error`.
bool run_command(const std::vector<std::string>& argv, const std::string& file, size_t zones,
                 std::chrono::milliseconds limit, std::string& error);

}  // namespace tsp::dns
