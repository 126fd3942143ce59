#pragma once

// What the subcommands that run separate client processes (e2e, events) share: finding
// the benchmark's own programs and nats-server, running a client to its exit or in the
// background, reading the key=value summary line it prints and the CPU time /proc holds
// for it and for the servers it talks to, and putting two paths' figures side by side.

#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace strata::test {
class Cluster;
}

namespace strata::bench {

inline constexpr std::chrono::seconds kStartTimeout{15};
inline constexpr std::chrono::minutes kClientDeadline{10};  // a client run still going then is stuck

// The benchmark's own programs are built into the build tree's bin/, beside strata-bench
// and Strata's programs; found the way tests/support finds those (test::nodeBinary()).
std::string benchProgram(const std::string& name);

// nats-server on PATH, or where Debian puts it (/usr/sbin, off most users' PATH).
std::optional<std::string> findNatsServer();

// The NATS server, or nullopt after saying on stdout why the NATS rows are skipped: the
// bench programs first and second (built only when libnats was found) are missing, or
// nats-server is not installed.
std::optional<std::string> natsServerOrExplain(const std::string& first, const std::string& second);

// A nats-server started in a cluster's directory on a free loopback port.
struct NatsServer {
  pid_t pid = -1;
  std::string address;  // 127.0.0.1:PORT, for a nats:// or tls:// URL
};

// Starts program (nats-server) with extraArgs (TLS options, say) on 127.0.0.1 and a port
// it picks, logging to nats-server.log, and waits until it listens. The cluster owns the
// process. Throws std::runtime_error when it does not start within kStartTimeout.
NatsServer startNatsServer(test::Cluster& cluster, const std::string& program,
                           const std::vector<std::string>& extraArgs);

// utime + stime of a process in clock ticks, from /proc/PID/stat. A zombie still has
// them: that is how a client's whole run is read before it is reaped. Throws
// std::runtime_error when the process is gone.
std::uint64_t cpuTicks(pid_t pid);

// ticks of CPU time in microseconds, shared out over count units of work (requests,
// delivered events); 0 when count is 0.
double microsecondsPer(std::uint64_t ticks, std::uint64_t count);

// The key=value pairs of the last line of text that starts with "KEY=" (key is given
// without the '='): "requests" for the request/reply clients, "events" for publishers and
// subscribers. Empty when there is no such line.
std::map<std::string, std::string> parseSummary(const std::string& text, const std::string& key);

// A whole number in a summary, or 0 when the key is missing; decimals are cut off.
std::uint64_t numberIn(const std::map<std::string, std::string>& summary, const std::string& key);
// A number in a summary that may have decimals (a rate), or 0 when the key is missing.
double decimalIn(const std::map<std::string, std::string>& summary, const std::string& key);

// numerator / denominator with two decimals, or "n/a" when either is not above 0 (a
// path that did not run).
std::string ratio(double numerator, double denominator);

struct ClientRun {
  std::map<std::string, std::string> summary;  // key=value pairs of the summary line
  std::uint64_t cpuTicks = 0;                  // the whole process, start to exit
  int exitCode = -1;                           // or 128 + the signal that ended it
};

// A client program running in the background, stdin from /dev/null, stdout and stderr to
// a log file: for clients that must be up before another starts (subscribers before the
// publisher) and are waited for afterwards. Killed (SIGKILL) and reaped on destruction if
// finish() did not reap it. Move-only; one thread uses it.
class BackgroundClient {
 public:
  // Throws std::runtime_error when the log cannot be opened or the process not started.
  BackgroundClient(const std::string& program, const std::vector<std::string>& args, std::filesystem::path logFile);
  ~BackgroundClient();
  BackgroundClient(BackgroundClient&& other) noexcept;
  BackgroundClient& operator=(BackgroundClient&&) = delete;
  BackgroundClient(const BackgroundClient&) = delete;
  BackgroundClient& operator=(const BackgroundClient&) = delete;

  pid_t pid() const { return pid_; }
  std::string log() const;

  // Waits up to deadline for the exit, reads the process's CPU time while it is still a
  // zombie, reaps it and parses the summary line starting with "KEY=" in its log. Throws
  // std::runtime_error when it is still running at the deadline (it is killed first) or
  // printed no summary line. A client that saw errors still returns: its summary and
  // exit code say so. Call it once.
  ClientRun finish(std::chrono::milliseconds deadline, const std::string& summaryKey);

 private:
  std::string program_;
  std::filesystem::path log_;
  pid_t pid_ = -1;  // -1 once reaped
};

// Runs a client to its exit (at most kClientDeadline), output to log: a BackgroundClient
// finished at once. Throws as BackgroundClient and finish() do.
ClientRun runClient(const std::string& program, const std::vector<std::string>& args, const std::filesystem::path& log,
                    const std::string& summaryKey);

// Runs measure(path) for every path in turns, rounds times, and returns each path's
// median result by less: a burst of load from elsewhere on a shared machine then moves
// one round, not the ratio.
template <typename Path, typename Result, typename Measure, typename Less>
std::map<Path, Result> medianOfRounds(const std::vector<Path>& paths, int rounds, Measure measure, Less less) {
  std::map<Path, std::vector<Result>> all;
  for (int round = 0; round < rounds; ++round) {
    for (auto path : paths) all[path].push_back(measure(path));
  }
  std::map<Path, Result> medians;
  for (auto& [path, results] : all) {
    std::sort(results.begin(), results.end(), less);
    medians[path] = results[results.size() / 2];
  }
  return medians;
}

}  // namespace strata::bench
