#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>

namespace strata::core::test {

// A fresh directory under the system temp dir, removed with everything in it when the
// object dies. The name mixes the pid, a counter and random bits so that tests running
// in parallel (ctest -j, one process per test) never share a directory.
class TempDir {
 public:
  TempDir() {
    static std::atomic<unsigned> counter{0};
    std::random_device random;
    path_ = std::filesystem::temp_directory_path() /
            ("strata-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
             std::to_string(random()));
    // False means it already existed: never reuse (and later delete) another's directory.
    if (!std::filesystem::create_directory(path_)) {
      throw std::runtime_error("temp dir " + path_.string() + " already exists");
    }
  }
  ~TempDir() {
    std::error_code ignored;  // cleanup must not throw from a destructor
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace strata::core::test
