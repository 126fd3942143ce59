#pragma once

#include <chrono>
#include <ostream>
#include <string>
#include <unordered_map>

#include <Poco/Logger.h>

#include <strata/core/clock.h>

namespace strata::core {

// Sends every Poco logger to out (daemons: stdout, as containers expect; the command-line
// tool: stderr, so replies alone reach stdout), one line per event with time, level and
// source. level is a Poco level name ("information", "debug", ...).
void setupLogging(const std::string& level, std::ostream& out);

// Lets one line through per key and interval, and counts what it held back, so that a
// peer sending junk cannot flood the log (nor slow the loop with formatting).
class RateLimitedLog {
 public:
  explicit RateLimitedLog(Duration interval = std::chrono::seconds(10)) : interval_(interval) {}

  // True if a line for key may be written now; suppressed() then tells how many were held back.
  bool allow(const std::string& key, TimePoint now);
  std::size_t suppressed(const std::string& key) const;

 private:
  struct Entry {
    TimePoint last;
    std::size_t held = 0;
    std::size_t reported = 0;
  };
  Duration interval_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace strata::core
