// Runs PLAIN's password checks (a PBKDF2 of 4096 HMAC-SHA-256 rounds, about a millisecond
// each) on threads of their own. On the I/O threads a flood of PLAIN logins from many
// addresses, each within its lockout allowance, would stall every other session: keepalive
// answers, DIGEST-MD5 and SCRAM logins, tunnel requests. Here it only fills a bounded queue;
// a check that finds it full is refused at once ("busy") instead of waiting behind it.
//
// Two lanes, each bounded on its own: a login from an address that proved the user's password
// before (AuthLockout's trusted sources: a customer reconnecting from home) goes in the
// trusted lane, which the threads serve first. A flood of logins from elsewhere then neither
// refuses nor delays the customers the broker already knows.
//
// No Boost.Asio: `done` runs on a checker thread, and the caller posts from there to its own
// I/O loop. Destroying the checker drops the checks not yet started (their `done` never
// runs) and joins its threads, so it must go before the loops its callbacks post to.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "control/credentials.hpp"

namespace tsp {

// PLAIN's PBKDF2 work, which a session hands to its server to run here: the verdict goes
// back through TspSession::on_password_checked with the same ticket.
struct PasswordCheck {
  uint64_t ticket = 0;
  StoredCredentials credentials;
  std::string password;
  bool trusted = false;  // from an address that proved this user's password before: the trusted lane
};

enum class PasswordVerdict {
  Right,
  Wrong,
  Unchecked,  // the checker was full: refused, but not the client's failure
};

class PasswordChecker {
 public:
  // At most `max_queued` checks wait in each lane (those running not counted).
  PasswordChecker(unsigned threads, size_t max_queued);
  ~PasswordChecker();
  PasswordChecker(const PasswordChecker&) = delete;
  PasswordChecker& operator=(const PasswordChecker&) = delete;

  // Queues auth::verify_password(credentials, password) in its lane; `done` gets Right or
  // Wrong on a checker thread. When max_queued checks wait in that lane already, nothing is
  // queued and `done` gets Unchecked at once, on the caller's thread. The password is wiped
  // after use.
  void submit(PasswordCheck check, std::function<void(PasswordVerdict)> done);

  // What the checker holds now, for the metrics: checks waiting in each lane, checks running
  // (their `done` included), and the most that may wait in a lane before a check is refused busy.
  struct Load {
    size_t queued = 0;          // the other lane
    size_t queued_trusted = 0;  // the trusted lane
    size_t running = 0;
    size_t capacity = 0;  // per lane
  };
  Load load() const;
  size_t queued() const {
    const Load l = load();
    return l.queued + l.queued_trusted;
  }

  // What a broker of this machine's size uses: one thread per core (the scheduler still
  // gives the I/O threads their share, and they no longer wait behind a check), and up to
  // a second's worth of waiting checks per thread. With fewer threads a PLAIN flood's own
  // logins slow down (perf/README.md, "tsp_load": 1 thread on 2 cores, 40 % fewer).
  static unsigned default_threads();
  static constexpr size_t kQueuedPerThread = 1024;

 private:
  struct Job {
    PasswordCheck check;
    std::function<void(PasswordVerdict)> done;
  };
  void run();

  const size_t max_queued_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;          // the other lane
  std::deque<Job> trusted_jobs_;  // served first
  size_t running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace tsp
