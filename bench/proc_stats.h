#pragma once

// What /proc says of a running process, for the benchmarks.

#include <sys/types.h>

#include <cstdint>
#include <fstream>
#include <string>

namespace strata::bench {

// Resident memory in KiB (VmRSS), or 0 when the process is gone.
inline std::uint64_t rssKiB(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

}  // namespace strata::bench
