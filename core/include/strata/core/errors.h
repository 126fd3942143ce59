#pragma once

#include <stdexcept>
#include <string>

namespace strata {

// sysexits(3) codes used by every Strata program, in one place.
enum class ExitCode : int {
  kOk = 0,
  kUsage = 64,        // EX_USAGE: bad command line
  kDataError = 65,    // EX_DATAERR: bad input data
  kNoInput = 66,      // EX_NOINPUT: an input file is missing or unreadable
  kUnavailable = 69,  // EX_UNAVAILABLE: a service (broker, worker) could not be reached
  kSoftware = 70,     // EX_SOFTWARE: internal error
  kOsError = 71,      // EX_OSERR: the system refused (socket, thread)
  kCantCreate = 73,   // EX_CANTCREAT: an output file cannot be created
  kTempFail = 75,     // EX_TEMPFAIL: try again later (timeouts)
  kNoPermission = 77, // EX_NOPERM: refused on security grounds (key file mode)
  kConfig = 78,       // EX_CONFIG: configuration error
};

// The root of Strata's start-up and configuration errors. Each carries the exit code a
// program should end with when it cannot go on.
class Error : public std::runtime_error {
 public:
  Error(const std::string& what, ExitCode code) : std::runtime_error(what), code_(code) {}
  ExitCode exitCode() const noexcept { return code_; }

 private:
  ExitCode code_;
};

// A configuration key is missing, unknown or malformed.
class ConfigError : public Error {
 public:
  explicit ConfigError(const std::string& what) : Error(what, ExitCode::kConfig) {}
};

// Key material is missing, malformed or not protected well enough.
class KeyError : public Error {
 public:
  KeyError(const std::string& what, ExitCode code = ExitCode::kNoPermission) : Error(what, code) {}
};

// The operating system or libzmq refused something we need to run.
class SystemError : public Error {
 public:
  explicit SystemError(const std::string& what) : Error(what, ExitCode::kOsError) {}
};

// A broken invariant: a bug, never a peer's fault. Prints file and line, then aborts.
[[noreturn]] void assertionFailed(const char* expr, const char* file, int line) noexcept;

}  // namespace strata

#define STRATA_ASSERT(expr) \
  ((expr) ? static_cast<void>(0) : ::strata::assertionFailed(#expr, __FILE__, __LINE__))
