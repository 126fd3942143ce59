// Runs every file in a directory through LLVMFuzzerTestOneInput, so the fuzz corpus is a
// regression test in every build, with or without clang and libFuzzer. An empty or
// missing directory is an error: a replay that ran nothing must not pass.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>
#include <vector>

#include <strata/core/errors.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return static_cast<int>(strata::ExitCode::kUsage);
  }
  const fs::path dir = argv[1];
  std::error_code error;
  if (!fs::is_directory(dir, error)) {
    std::fprintf(stderr, "%s: corpus directory %s does not exist\n", argv[0], dir.c_str());
    return static_cast<int>(strata::ExitCode::kNoInput);
  }

  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());  // a stable order makes a failure easy to find
  if (files.empty()) {
    std::fprintf(stderr, "%s: corpus directory %s holds no files\n", argv[0], dir.c_str());
    return static_cast<int>(strata::ExitCode::kNoInput);
  }

  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "%s: cannot read %s\n", argv[0], file.c_str());
      return static_cast<int>(strata::ExitCode::kNoInput);
    }
    std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    // Printed first so that, if the input aborts, the log says which file did it.
    std::fprintf(stderr, "replaying %s (%zu bytes)\n", file.filename().c_str(), bytes.size());
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  }
  std::printf("replayed %zu inputs from %s\n", files.size(), dir.c_str());
  return 0;
}
