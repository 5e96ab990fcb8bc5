#include "control/password_checker.hpp"

#include <openssl/crypto.h>

#include <algorithm>

#include "control/auth/make_credentials.hpp"

namespace tsp {

namespace {
void wipe(std::string& secret) {
  if (!secret.empty()) OPENSSL_cleanse(secret.data(), secret.size());
  secret.clear();
}
}  // namespace

PasswordChecker::PasswordChecker(unsigned threads, size_t max_queued) : max_queued_(max_queued) {
  threads = std::max(threads, 1u);
  threads_.reserve(threads);
  for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
}

PasswordChecker::~PasswordChecker() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (auto* lane : {&jobs_, &trusted_jobs_}) {
      for (auto& job : *lane) wipe(job.check.password);
      lane->clear();
    }
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

void PasswordChecker::submit(PasswordCheck check, std::function<void(PasswordVerdict)> done) {
  {
    std::lock_guard lock(mutex_);
    auto& lane = check.trusted ? trusted_jobs_ : jobs_;
    if (!stopping_ && lane.size() < max_queued_) {
      lane.push_back({std::move(check), std::move(done)});
      wake_.notify_one();
      return;
    }
  }
  wipe(check.password);
  done(PasswordVerdict::Unchecked);
}

PasswordChecker::Load PasswordChecker::load() const {
  std::lock_guard lock(mutex_);
  return {jobs_.size(), trusted_jobs_.size(), running_, max_queued_};
}

unsigned PasswordChecker::default_threads() { return std::max(1u, std::thread::hardware_concurrency()); }

void PasswordChecker::run() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty() || !trusted_jobs_.empty(); });
      if (stopping_) return;
      auto& lane = trusted_jobs_.empty() ? jobs_ : trusted_jobs_;
      job = std::move(lane.front());
      lane.pop_front();
      ++running_;
    }
    const bool right = auth::verify_password(job.check.credentials, job.check.password);
    wipe(job.check.password);
    job.done(right ? PasswordVerdict::Right : PasswordVerdict::Wrong);
    std::lock_guard lock(mutex_);
    --running_;
  }
}

}  // namespace tsp
