// Runs a libFuzzer-style target without libFuzzer, so every parser's fuzz target also
// runs as a plain test under gcc + ASan/UBSan in CI:
//   fuzz_x [FILE|DIR ...] [-runs=N] [-seed=S]
// Each FILE (or every file in DIR) is fed as is, then N deterministic mutations of those
// inputs (bit flips, truncations, splices, random bytes). A crash or sanitizer report fails.
// With clang, build the same target against -fsanitize=fuzzer for coverage-guided runs.
#include <algorithm>
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
  const auto inputs = read_inputs(paths);
  for (const auto& in : inputs) LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(in.data()), in.size());
  std::mt19937_64 rng(seed);
  for (long i = 0; i < runs; ++i) {
    const auto s = mutate(inputs, rng);
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
  std::printf("fuzz driver: %zu seed inputs, %ld mutated runs, no crash\n", inputs.size(), runs);
  return 0;
}
