#pragma once

// Private to the `strata` tool: what its commands share, and the event commands
// (publish, subscribe), which live in cli_events.cpp, watch (cli_watch.cpp) and status
// (cli_status.cpp).

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <strata/core/config.h>
#include <strata/nodes/messages.h>

namespace strata::nodes::cli {

constexpr int kExitFailed = 1;  // a call or publish failed in a way sysexits has no code for

constexpr std::chrono::milliseconds kSignalPoll{100};

// SIGINT and SIGTERM, blocked in every thread (so set before the client's threads start)
// and taken by the main thread with sigtimedwait.
sigset_t blockStopSignals();
// Whether one came within wait.
bool stopSignalled(const sigset_t& set, std::chrono::milliseconds wait);

// How long a command's poll loop has gone with nothing new (the --timeout of subscribe
// and watch). Each poll adds at most two poll periods, so the time a stopped process
// (SIGSTOP) spends does not count: it finds its backlog when it goes on.
class IdleClock {
 public:
  // Call once per poll with how many things have been seen so far; true once idle for limit.
  bool idleFor(std::uint64_t seen, std::chrono::milliseconds limit) {
    auto now = std::chrono::steady_clock::now();
    auto step = std::min<std::chrono::steady_clock::duration>(now - lastPoll_, 2 * kSignalPoll);
    lastPoll_ = now;
    if (seen != lastSeen_) {
      lastSeen_ = seen;
      idle_ = {};
      return false;
    }
    idle_ += step;
    return limit.count() > 0 && idle_ >= limit;
  }

 private:
  std::chrono::steady_clock::time_point lastPoll_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::duration idle_{};
  std::uint64_t lastSeen_ = 0;
};

struct CommonOptions {
  std::string configFile;
  std::vector<std::string> defines;
  std::string logLevel = "warning";
};

core::Config loadClientConfig(const CommonOptions& common);
// The exit code for a failed call or publish, by the kind of failure (sysexits).
int exitCodeFor(ErrorCode code);
// "name (code): text", how every command reports a failure.
std::string describeError(ErrorCode code, const std::string& text);
// key=value texts as headers; throws ConfigError for one without '='.
Headers parseHeaders(const std::vector<std::string>& texts);
void addCommonOptions(CLI::App& app, CommonOptions& common);

struct PublishOptions {
  std::string subject;
  std::string body;
  std::vector<std::string> headers;
  long long timeoutMs = 0;
  std::uint64_t repeat = 0;
  double rate = 0;
  std::size_t size = 0;
  bool sizeGiven = false;
  bool stamp = false;
  std::uint64_t window = 0;
  const CLI::Option* bodyOption = nullptr;
  const CLI::Option* sizeOption = nullptr;
};

struct SubscribeOptions {
  std::vector<std::string> patterns;
  bool json = false;
  std::uint64_t count = 0;
  long long idleMs = 0;
  bool quiet = false;
  bool summary = false;
  bool stamped = false;
};

struct WatchOptions {
  std::string target;  // COLLECTION[/KEY-PREFIX]
  bool json = false;
  bool snapshotOnly = false;
  std::uint64_t count = 0;
  long long idleMs = 0;
};

struct StatusOptions {
  bool json = false;
  bool watch = false;
  long long intervalMs = 1000;
  std::uint64_t count = 0;  // --watch: stop after this many redraws (0: until SIGINT)
  long long timeoutMs = 2000;
};

CLI::App* addStatusCommand(CLI::App& app, CommonOptions& common, StatusOptions& options);
int runStatus(const CommonOptions& common, const StatusOptions& options);

CLI::App* addPublishCommand(CLI::App& app, CommonOptions& common, PublishOptions& options);
CLI::App* addSubscribeCommand(CLI::App& app, CommonOptions& common, SubscribeOptions& options);
CLI::App* addWatchCommand(CLI::App& app, CommonOptions& common, WatchOptions& options);
int runPublish(const CommonOptions& common, PublishOptions options);
int runWatch(const CommonOptions& common, const WatchOptions& options);
int runSubscribe(const CommonOptions& common, const SubscribeOptions& options);

}  // namespace strata::nodes::cli
