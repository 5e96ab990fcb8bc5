// A log sink that collects formatted lines in memory and hands them to a descriptor in one
// write(2) per flush instead of one per line: under load the broker logs two info lines per
// TSP session, and an unbuffered stderr made each of them a system call on the I/O thread.
// Lines reach the descriptor when the buffer fills, on flush() (the daemon's flusher thread
// calls it every few tens of milliseconds, spdlog after every warning or worse) and when the
// sink is destroyed.
#pragma once

#include <spdlog/sinks/base_sink.h>

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <thread>

namespace tsp::daemon {

class BufferedFdSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  static constexpr size_t kDefaultCapacity = 64 * 1024;

  // Does not own fd (stderr).
  explicit BufferedFdSink(int fd, size_t capacity = kDefaultCapacity);
  ~BufferedFdSink() override;
  BufferedFdSink(const BufferedFdSink&) = delete;
  BufferedFdSink& operator=(const BufferedFdSink&) = delete;

  // Bytes formatted but not yet written (for tests).
  size_t pending_bytes();

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override;

 private:
  void write_out();  // caller holds mutex_

  int fd_;
  size_t capacity_;
  spdlog::memory_buf_t buffer_;
};

// Calls flush() on a sink every `interval` from its own thread until destroyed (which
// flushes once more): what the I/O thread logs appears within the interval without the
// I/O thread ever making the write(2).
class PeriodicFlusher {
 public:
  PeriodicFlusher(std::shared_ptr<spdlog::sinks::sink> sink, std::chrono::milliseconds interval);
  ~PeriodicFlusher();
  PeriodicFlusher(const PeriodicFlusher&) = delete;
  PeriodicFlusher& operator=(const PeriodicFlusher&) = delete;

 private:
  std::shared_ptr<spdlog::sinks::sink> sink_;
  std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace tsp::daemon
