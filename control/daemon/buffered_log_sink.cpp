#include "control/daemon/buffered_log_sink.hpp"

#include <unistd.h>

#include <cerrno>

namespace tsp::daemon {

BufferedFdSink::BufferedFdSink(int fd, size_t capacity) : fd_(fd), capacity_(capacity) {}

BufferedFdSink::~BufferedFdSink() {
  std::lock_guard lock(mutex_);
  write_out();
}

size_t BufferedFdSink::pending_bytes() {
  std::lock_guard lock(mutex_);
  return buffer_.size();
}

void BufferedFdSink::sink_it_(const spdlog::details::log_msg& msg) {
  formatter_->format(msg, buffer_);  // appends
  if (buffer_.size() >= capacity_) write_out();
}

void BufferedFdSink::flush_() { write_out(); }

void BufferedFdSink::write_out() {
  const char* data = buffer_.data();
  size_t left = buffer_.size();
  while (left > 0) {
    const ssize_t n = ::write(fd_, data, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;  // nowhere to report a log that cannot be written: drop it
    }
    data += n;
    left -= static_cast<size_t>(n);
  }
  buffer_.clear();
}

PeriodicFlusher::PeriodicFlusher(std::shared_ptr<spdlog::sinks::sink> sink, std::chrono::milliseconds interval)
    : sink_(std::move(sink)), interval_(interval) {
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stop_) {
      wake_.wait_for(lock, interval_, [this] { return stop_; });
      lock.unlock();
      sink_->flush();
      lock.lock();
    }
  });
}

PeriodicFlusher::~PeriodicFlusher() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

}  // namespace tsp::daemon
