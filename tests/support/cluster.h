#pragma once

// Real processes on loopback for integration tests: keys on disk, config files, a broker
// and nodes started as the user would start them, and kill -9 / SIGSTOP / SIGTERM for
// real. Endpoints use port 0 ("*") and are read back from the broker's log.

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <strata/core/curve_keys.h>
#include <strata/nodes/client.h>

namespace strata::test {

// Polls condition every few milliseconds until it holds or timeout passes.
bool waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

std::string readFile(const std::filesystem::path& path);

// A child process whose stdout and stderr go to a log file. Killed (SIGKILL) on destruction
// if still running.
class Process {
 public:
  Process(const std::string& program, const std::vector<std::string>& args, std::filesystem::path log);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig);
  // Waits for the exit; returns the exit code, or 128+signal. nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running();
  std::string log() const { return readFile(log_); }
  // Waits until the log contains text (at least count times).
  bool waitForLog(const std::string& text, std::chrono::milliseconds timeout, std::size_t count = 1) const;
  // Waits for the first tcp://127.0.0.1:PORT after marker in the log; empty on timeout.
  std::string waitForEndpoint(const std::string& marker, std::chrono::milliseconds timeout) const;

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::filesystem::path log_;
};

// Runs a program to completion; returns exit code and output (stdout and stderr apart).
struct RunResult {
  int exitCode = -1;
  std::string out;
  std::string err;
};
RunResult runProgram(const std::string& program, const std::vector<std::string>& args,
                     const std::string& stdinText = "", std::chrono::milliseconds timeout = std::chrono::seconds(60));

std::size_t countOf(const std::string& text, const std::string& needle);

// The URL a daemon's admin endpoint logged ("admin listening on http://127.0.0.1:PORT",
// or https), waiting up to timeout for the line; empty when it did not come.
std::string adminUrlOf(const Process& process, std::chrono::milliseconds timeout = std::chrono::seconds(10));

std::string brokerBinary();
std::string nodeBinary();
std::string cliBinary();

// A temporary directory with keys and config files, and the processes started in it.
class Cluster {
 public:
  Cluster();
  ~Cluster();

  const std::filesystem::path& dir() const { return dir_; }

  // Makes NAME.key/NAME.pub and, unless layer is nullopt, lists the key in authorized_keys.
  void addIdentity(const std::string& name, std::optional<int> layer);
  std::filesystem::path keyFile(const std::string& name) const { return dir_ / (name + ".key"); }
  std::filesystem::path pubFile(const std::string& name) const { return dir_ / (name + ".pub"); }
  std::filesystem::path writeConfig(const std::string& file, const std::map<std::string, std::string>& keys) const;

  // Starts a broker bound to tcp://127.0.0.1:* and waits until it listens; returns its endpoint.
  std::string startBroker(const std::map<std::string, std::string>& extra = {});
  Process& broker() { return *broker_; }

  // Another broker of the pool (same key pair and authorized_keys), on tcp://127.0.0.1:*.
  struct ExtraBroker {
    Process& process;
    std::string endpoint;
  };
  ExtraBroker startExtraBroker(const std::string& name, const std::map<std::string, std::string>& extra = {});
  const std::string& brokerEndpoint() const { return brokerEndpoint_; }

  // Starts strata-node named name (an identity) running services against the broker, and
  // waits until the broker has registered it.
  Process& startNode(const std::string& name, const std::string& services,
                     const std::map<std::string, std::string>& extra = {});

  // Starts strata-node without waiting for anything (direct mode, or a broker of another kind).
  Process& startProcess(const std::string& program, const std::vector<std::string>& args, const std::string& log);

  nodes::ClientOptions clientOptions(const std::string& identity) const;
  std::filesystem::path clientConfig(const std::string& identity) const;

 private:
  std::map<std::string, std::string> brokerSettings(const std::map<std::string, std::string>& extra) const;

  std::filesystem::path dir_;
  std::string authorized_;
  std::unique_ptr<Process> broker_;
  std::string brokerEndpoint_;
  std::vector<std::unique_ptr<Process>> nodes_;
};

}  // namespace strata::test
