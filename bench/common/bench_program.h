#pragma once

// What the end-to-end benchmark's own small programs (bench/bare/, bench/nats/) share:
// "--name value" options and the summary line a client prints. Header-only and free of
// Strata's libraries, so each program stays one source file that builds with one g++ call.

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace strata::bench {

// A mistake on the command line; main() ends with kExitUsage.
// Defaults of the bare and NATS load clients, the same for both so their rows compare.
inline constexpr std::uint64_t kDefaultRequests = 20'000;
inline constexpr std::uint64_t kDefaultWindow = 100;
inline constexpr std::uint64_t kDefaultBodySize = 64;
inline constexpr std::uint64_t kDefaultTimeoutMs = 30'000;  // no answer for this long: the rest are errors

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

constexpr int kExitUsage = 64;   // sysexits EX_USAGE
constexpr int kExitFailure = 1;  // a run that went wrong, or a client that saw errors

// Options given as "--name value" pairs and nothing else. Throws UsageError on a name that
// is not in known, a name without a value, or a number that does not parse.
class ProgramArgs {
 public:
  ProgramArgs(int argc, char** argv, std::initializer_list<std::string_view> known) {
    for (int i = 1; i < argc; ++i) {
      std::string name = argv[i];
      if (std::find(known.begin(), known.end(), name) == known.end()) throw UsageError("unknown option " + name);
      if (i + 1 >= argc) throw UsageError(name + " needs a value");
      values_[name] = argv[++i];
    }
  }

  std::string text(const std::string& name, const std::string& fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
  }

  std::string required(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) throw UsageError(name + " is required");
    return it->second;
  }

  std::uint64_t number(const std::string& name, std::uint64_t fallback) const {
    auto it = values_.find(name);
    if (it == values_.end()) return fallback;
    std::size_t used = 0;
    std::uint64_t value = 0;
    try {
      value = std::stoull(it->second, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != it->second.size()) throw UsageError(name + " takes a number, not '" + it->second + "'");
    return value;
  }

 private:
  std::map<std::string, std::string> values_;
};

// A bench program's main: parses argv against the options it knows and runs it. A usage
// mistake exits 64, anything else thrown 1, each with one line on stderr.
template <typename Run>
int programMain(const char* name, int argc, char** argv, std::initializer_list<std::string_view> known, Run run) {
  try {
    return run(ProgramArgs(argc, argv, known));
  } catch (const UsageError& e) {
    std::cerr << name << ": " << e.what() << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << name << ": " << e.what() << "\n";
    return kExitFailure;
  }
}

// The value at fraction q (0..1) of values, rounded to the nearest rank, as
// strata::nodes::percentile does; 0 when there are none. Reorders values.
inline std::uint64_t percentileOf(std::vector<std::uint64_t>& values, double q) {
  if (values.empty()) return 0;
  auto index = static_cast<std::size_t>(q * static_cast<double>(values.size() - 1) + 0.5);
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(index), values.end());
  return values[index];
}

// What one client run measured. line() prints it in the format of `strata call --repeat`'s
// summary, so the driver reads every client alike:
//   requests=N ok=N errors=N req_per_s=R p50_us=P p99_us=P
struct LoadReport {
  std::uint64_t requests = 0;  // answered, well or not
  std::uint64_t ok = 0;
  std::uint64_t errors = 0;  // wrong answers and requests never answered
  double seconds = 0;
  std::vector<std::uint64_t> latenciesUs;  // of ok answers

  std::uint64_t percentile(double q) { return percentileOf(latenciesUs, q); }

  std::string line() {
    std::ostringstream out;
    double rate = seconds > 0 ? static_cast<double>(requests) / seconds : 0.0;
    out << "requests=" << requests << " ok=" << ok << " errors=" << errors << " req_per_s=" << std::fixed
        << std::setprecision(0) << rate << " p50_us=" << percentile(0.50) << " p99_us=" << percentile(0.99);
    return out.str();
  }
};

}  // namespace strata::bench
