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
    for (auto& job : jobs_) wipe(job.password);
    jobs_.clear();
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

bool PasswordChecker::submit(StoredCredentials credentials, std::string password, std::function<void(bool)> done) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || jobs_.size() >= max_queued_) {
      wipe(password);
      return false;
    }
    jobs_.push_back({std::move(credentials), std::move(password), std::move(done)});
  }
  wake_.notify_one();
  return true;
}

size_t PasswordChecker::queued() const {
  std::lock_guard lock(mutex_);
  return jobs_.size();
}

unsigned PasswordChecker::default_threads() { return std::max(1u, std::thread::hardware_concurrency()); }

void PasswordChecker::run() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    const bool right = auth::verify_password(job.credentials, job.password);
    wipe(job.password);
    job.done(right);
  }
}

}  // namespace tsp
