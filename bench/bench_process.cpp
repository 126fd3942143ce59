#include "bench_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "cluster.h"

namespace strata::bench {

namespace fs = std::filesystem;

namespace {

bool isExecutable(const fs::path& path) { return ::access(path.c_str(), X_OK) == 0; }

int exitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::string benchProgram(const std::string& name) { return std::string(STRATA_BINARY_DIR) + "/bin/" + name; }

std::optional<std::string> findNatsServer() {
  const char* env = std::getenv("PATH");
  std::string dirs = std::string(env ? env : "") + ":/usr/sbin:/usr/local/sbin:/usr/bin:/usr/local/bin";
  std::istringstream list(dirs);
  std::string dir;
  while (std::getline(list, dir, ':')) {
    if (!dir.empty() && isExecutable(fs::path(dir) / "nats-server")) return (fs::path(dir) / "nats-server").string();
  }
  return std::nullopt;
}

std::optional<std::string> natsServerOrExplain(const std::string& first, const std::string& second) {
  if (!isExecutable(benchProgram(first)) || !isExecutable(benchProgram(second))) {
    std::cout << "nats: skipped: " << first << " and " << second
              << " were not built (libnats was not found when the build "
                 "was configured; apt-get install libnats-dev, then configure again)\n";
    return std::nullopt;
  }
  auto server = findNatsServer();
  if (!server) std::cout << "nats: skipped: nats-server not found (apt-get install nats-server)\n";
  return server;
}

NatsServer startNatsServer(test::Cluster& cluster, const std::string& program,
                           const std::vector<std::string>& extraArgs) {
  // -p -1: a free port, which the server logs.
  std::vector<std::string> args{"-a", "127.0.0.1", "-p", "-1"};
  args.insert(args.end(), extraArgs.begin(), extraArgs.end());
  auto& server = cluster.startProcess(program, args, "nats-server.log");
  const std::regex listening("client connections on (127\\.0\\.0\\.1:[0-9]+)");
  NatsServer started;
  test::waitUntil(
      [&] {
        std::smatch match;
        auto text = server.log();
        if (!std::regex_search(text, match, listening)) return false;
        started.address = match[1].str();
        return true;
      },
      kStartTimeout);
  if (started.address.empty()) throw std::runtime_error("nats-server did not start:\n" + server.log());
  started.pid = server.pid();
  return started;
}

// Fields 14 and 15 of /proc/PID/stat; the command name before them may hold spaces, so
// fields count from its closing parenthesis.
std::uint64_t cpuTicks(pid_t pid) {
  auto text = test::readFile("/proc/" + std::to_string(pid) + "/stat");
  auto close = text.rfind(')');
  if (close == std::string::npos) throw std::runtime_error("cannot read /proc/" + std::to_string(pid) + "/stat");
  std::istringstream fields(text.substr(close + 1));
  std::string field;
  std::uint64_t ticks = 0;
  for (int number = 3; number <= 15 && fields >> field; ++number) {
    if (number >= 14) ticks += std::stoull(field);
  }
  return ticks;
}

double microsecondsPer(std::uint64_t ticks, std::uint64_t count) {
  static const double tickUs = 1e6 / static_cast<double>(::sysconf(_SC_CLK_TCK));
  return count == 0 ? 0 : static_cast<double>(ticks) * tickUs / static_cast<double>(count);
}

std::map<std::string, std::string> parseSummary(const std::string& text, const std::string& key) {
  const std::string lead = key + "=";
  std::map<std::string, std::string> pairs;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(lead, 0) != 0) continue;
    pairs.clear();
    std::istringstream words(line);
    std::string word;
    while (words >> word) {
      auto eq = word.find('=');
      if (eq != std::string::npos) pairs[word.substr(0, eq)] = word.substr(eq + 1);
    }
  }
  return pairs;
}

std::uint64_t numberIn(const std::map<std::string, std::string>& summary, const std::string& key) {
  auto it = summary.find(key);
  return it == summary.end() ? 0 : std::stoull(it->second);
}

double decimalIn(const std::map<std::string, std::string>& summary, const std::string& key) {
  auto it = summary.find(key);
  return it == summary.end() ? 0.0 : std::stod(it->second);
}

std::string ratio(double numerator, double denominator) {
  if (denominator <= 0 || numerator <= 0) return "n/a";
  std::ostringstream out;
  out << std::fixed << std::setprecision(2) << numerator / denominator;
  return out.str();
}

BackgroundClient::BackgroundClient(const std::string& program, const std::vector<std::string>& args,
                                   fs::path logFile)
    : program_(program), log_(std::move(logFile)) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(program.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  int out = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out < 0 || in < 0) {
    if (out >= 0) ::close(out);
    if (in >= 0) ::close(in);
    throw std::runtime_error("cannot open " + log_.string());
  }
  pid_t child = ::fork();
  if (child == 0) {
    ::dup2(in, STDIN_FILENO);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(out, STDERR_FILENO);
    ::close_range(3, ~0U, 0);
    ::execv(program.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(out);
  ::close(in);
  if (child < 0) throw std::runtime_error("cannot start " + program);
  pid_ = child;
}

BackgroundClient::~BackgroundClient() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

BackgroundClient::BackgroundClient(BackgroundClient&& other) noexcept
    : program_(std::move(other.program_)), log_(std::move(other.log_)), pid_(std::exchange(other.pid_, -1)) {}

std::string BackgroundClient::log() const { return test::readFile(log_); }

ClientRun BackgroundClient::finish(std::chrono::milliseconds deadline, const std::string& summaryKey) {
  if (pid_ <= 0) throw std::logic_error("BackgroundClient::finish called twice for " + program_);
  // WNOWAIT leaves the exited child a zombie, whose /proc/PID/stat holds its final CPU time.
  bool exited = test::waitUntil(
      [&] {
        siginfo_t info{};
        return ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
               info.si_pid == pid_;
      },
      deadline);
  ClientRun run;
  if (exited) run.cpuTicks = cpuTicks(pid_);
  if (!exited) ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  run.exitCode = exitCodeOf(status);
  auto output = log();
  if (!exited) throw std::runtime_error(program_ + " did not finish in time:\n" + output);
  run.summary = parseSummary(output, summaryKey);
  if (run.summary.empty()) throw std::runtime_error(program_ + " printed no summary line:\n" + output);
  return run;
}

ClientRun runClient(const std::string& program, const std::vector<std::string>& args, const fs::path& log,
                    const std::string& summaryKey) {
  return BackgroundClient(program, args, log).finish(kClientDeadline, summaryKey);
}

}  // namespace strata::bench
