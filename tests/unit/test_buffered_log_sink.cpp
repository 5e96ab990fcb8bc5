// BufferedFdSink and PeriodicFlusher (control/daemon/buffered_log_sink.hpp): lines wait in
// memory until a flush, a full buffer or the sink's end, and then leave whole and in order.
#include <fcntl.h>
#include <spdlog/logger.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "control/daemon/buffered_log_sink.hpp"

namespace {

using tsp::daemon::BufferedFdSink;
using tsp::daemon::PeriodicFlusher;

// A pipe whose read end never blocks: read_all() returns what was written so far.
struct Pipe {
  int fds[2] = {-1, -1};
  Pipe() {
    REQUIRE(::pipe2(fds, O_NONBLOCK) == 0);
  }
  ~Pipe() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
  int write_end() const { return fds[1]; }
  std::string read_all() const {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    return out;
  }
};

std::shared_ptr<spdlog::logger> logger_on(std::shared_ptr<BufferedFdSink> sink) {
  auto logger = std::make_shared<spdlog::logger>("test", std::move(sink));
  logger->set_pattern("%l %v");
  logger->set_level(spdlog::level::info);
  return logger;
}

}  // namespace

TEST_CASE("buffered sink: lines wait for a flush, then leave in order in one piece") {
  Pipe pipe;
  auto sink = std::make_shared<BufferedFdSink>(pipe.write_end());
  auto log = logger_on(sink);
  log->info("first {}", 1);
  log->info("second");
  CHECK(pipe.read_all().empty());
  CHECK(sink->pending_bytes() == std::string("info first 1\ninfo second\n").size());
  log->flush();
  CHECK(pipe.read_all() == "info first 1\ninfo second\n");
  CHECK(sink->pending_bytes() == 0);
  log->flush();  // nothing pending: nothing written
  CHECK(pipe.read_all().empty());
}

TEST_CASE("buffered sink: a full buffer is written without a flush") {
  Pipe pipe;
  auto sink = std::make_shared<BufferedFdSink>(pipe.write_end(), 64);
  auto log = logger_on(sink);
  log->info("short");
  CHECK(pipe.read_all().empty());
  const std::string long_text(80, 'x');
  log->info(long_text);
  CHECK(pipe.read_all() == "info short\ninfo " + long_text + "\n");
}

TEST_CASE("buffered sink: what is pending is written when the sink goes") {
  Pipe pipe;
  {
    auto log = logger_on(std::make_shared<BufferedFdSink>(pipe.write_end()));
    log->warn("last words");
  }
  CHECK(pipe.read_all() == "warning last words\n");
}

TEST_CASE("buffered sink: flush_on(warn) writes a warning at once") {
  Pipe pipe;
  auto log = logger_on(std::make_shared<BufferedFdSink>(pipe.write_end()));
  log->flush_on(spdlog::level::warn);
  log->info("quiet");
  CHECK(pipe.read_all().empty());
  log->error("loud");
  CHECK(pipe.read_all() == "info quiet\nerror loud\n");
}

TEST_CASE("periodic flusher: lines appear within the interval, and once more at its end") {
  Pipe pipe;
  auto sink = std::make_shared<BufferedFdSink>(pipe.write_end());
  auto log = logger_on(sink);
  {
    PeriodicFlusher flusher(sink, std::chrono::milliseconds(10));
    log->info("tick");
    std::string got;
    for (int i = 0; i < 500 && got.empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      got = pipe.read_all();
    }
    CHECK(got == "info tick\n");
    log->info("tock");
  }  // the flusher's end flushes what it has not yet
  CHECK(pipe.read_all() == "info tock\n");
}

TEST_CASE("buffered sink: a descriptor that fails drops the lines, without an error") {
  Pipe pipe;
  const int closed = ::dup(pipe.write_end());
  REQUIRE(closed >= 0);
  ::close(closed);
  auto sink = std::make_shared<BufferedFdSink>(closed);
  auto log = logger_on(sink);
  log->info("into the void");
  log->flush();
  CHECK(sink->pending_bytes() == 0);
}
