// Runs a libFuzzer-style target without libFuzzer, so every parser's fuzz target also
// runs as a plain test under gcc + ASan/UBSan in CI:
//   fuzz_x [FILE|DIR ...] [-runs=N] [-seed=S]
// Each FILE (or every file in DIR) is fed as is, then N deterministic mutations of those
// inputs (bit flips, truncations, splices, random bytes). A crash or sanitizer report fails.
// Coverage-guided runs of the same targets with clang's libFuzzer: tests/fuzz/libfuzzer.sh.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
// Present when built with a sanitizer: called before it ends the process with its report.
extern "C" void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

namespace {

std::vector<std::string> read_inputs(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  auto read_file = [&](const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    out.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  for (const auto& p : paths) {
    if (std::filesystem::is_directory(p)) {
      std::vector<std::filesystem::path> files;
      for (const auto& e : std::filesystem::directory_iterator(p))
        if (e.is_regular_file()) files.push_back(e.path());
      std::sort(files.begin(), files.end());  // deterministic order
      for (const auto& f : files) read_file(f);
    } else {
      read_file(p);
    }
  }
  return out;
}

std::string mutate(const std::vector<std::string>& pool, std::mt19937_64& rng) {
  std::string s = pool.empty() ? std::string() : pool[rng() % pool.size()];
  const int steps = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < steps; ++i) {
    switch (rng() % 6) {
      case 0:  // flip a bit
        if (!s.empty()) s[rng() % s.size()] ^= static_cast<char>(1u << (rng() % 8));
        break;
      case 1:  // truncate
        if (!s.empty()) s.resize(rng() % s.size());
        break;
      case 2:  // insert random bytes
        for (size_t n = rng() % 16, pos = s.empty() ? 0 : rng() % s.size(); n > 0; --n)
          s.insert(s.begin() + static_cast<long>(pos), static_cast<char>(rng()));
        break;
      case 3:  // splice with another input
        if (!pool.empty()) {
          const auto& o = pool[rng() % pool.size()];
          if (!o.empty() && !s.empty()) s = s.substr(0, rng() % s.size()) + o.substr(rng() % o.size());
        }
        break;
      case 4:  // duplicate a chunk (grows inputs toward limits)
        if (!s.empty()) {
          size_t a = rng() % s.size(), n = rng() % (s.size() - a + 1);
          s.insert(a, s.substr(a, n));
        }
        break;
      default:  // overwrite with an interesting byte
        if (!s.empty()) {
          static const char interesting[] = {'\0', '\r', '\n', '<', '>', '"', '=', ',', '/', ':', '\xff', ' '};
          s[rng() % s.size()] = interesting[rng() % sizeof interesting];
        }
    }
  }
  return s;
}

// The input being run, so that a failure can leave it behind for replaying: the driver's
// mutations are not printed, and a crash would otherwise lose them.
const std::string* g_current = nullptr;
constexpr char kFailureFile[] = "fuzz-failure.bin";

void save_current_input() {
  static volatile sig_atomic_t saved = 0;
  if (g_current == nullptr || saved) return;
  saved = 1;
  const int fd = ::open(kFailureFile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return;
  const char* p = g_current->data();
  for (size_t left = g_current->size(); left > 0;) {
    const ssize_t n = ::write(fd, p, left);
    if (n <= 0) break;
    p += n;
    left -= static_cast<size_t>(n);
  }
  ::close(fd);
  constexpr char kNote[] = "fuzz driver: the failing input is in fuzz-failure.bin (replay: fuzz_x fuzz-failure.bin -runs=0)\n";
  (void)!::write(2, kNote, sizeof kNote - 1);
}

void on_fatal_signal(int sig) {
  save_current_input();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void run_one(const std::string& in) {
  g_current = &in;
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(in.data()), in.size());
  g_current = nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  long runs = 20000;
  uint64_t seed = 1;
  std::vector<std::string> paths;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "-runs=", 6) == 0) runs = std::atol(argv[i] + 6);
    else if (std::strncmp(argv[i], "-seed=", 6) == 0) seed = std::strtoull(argv[i] + 6, nullptr, 10);
    else paths.emplace_back(argv[i]);
  }
  if (__sanitizer_set_death_callback != nullptr) __sanitizer_set_death_callback(save_current_input);
  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) std::signal(sig, on_fatal_signal);
  const auto inputs = read_inputs(paths);
  for (const auto& in : inputs) run_one(in);
  std::mt19937_64 rng(seed);
  for (long i = 0; i < runs; ++i) run_one(mutate(inputs, rng));
  std::printf("fuzz driver: %zu seed inputs, %ld mutated runs, no crash\n", inputs.size(), runs);
  return 0;
}
