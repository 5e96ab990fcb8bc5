// A fresh directory under /tmp for one test, removed with everything in it: the unit tests'
// one way to get a scratch directory (a store file, a zone file, a socket).
#pragma once

#include <catch2/catch.hpp>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace tsp::test {

struct ScratchDir {
  // `prefix`: the start of the directory's name, to tell whose it is when a test dies.
  explicit ScratchDir(std::string_view prefix = "tsp-test") {
    std::string pattern = "/tmp/" + std::string(prefix) + "-XXXXXX";
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  std::string file(std::string_view name) const { return path + "/" + std::string(name); }

  std::string path;
};

}  // namespace tsp::test
