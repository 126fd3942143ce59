#include "cluster.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

namespace strata::test {

namespace fs = std::filesystem;

namespace {

constexpr std::chrono::milliseconds kPollInterval{10};
constexpr std::chrono::seconds kStartTimeout{15};

int decodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

pid_t spawn(const std::string& program, const std::vector<std::string>& args, int in, int out, int err) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(program.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    if (in >= 0) ::dup2(in, STDIN_FILENO);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
    // Nothing else of the test's goes with the child: a child outliving a killed test
    // would otherwise hold the test's files open (a build lock among them).
    ::close_range(3, ~0U, 0);
    ::execv(program.c_str(), argv.data());
    ::_exit(127);
  }
  return pid;
}

}  // namespace

bool waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
}

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Process::Process(const std::string& program, const std::vector<std::string>& args, fs::path log)
    : log_(std::move(log)) {
  int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_ = spawn(program, args, devnull, fd, fd);
  ::close(fd);
  ::close(devnull);
}

Process::~Process() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    wait(std::chrono::seconds(10));
  }
}

void Process::signal(int sig) { ::kill(pid_, sig); }

bool Process::running() {
  if (status_) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    status_ = decodeStatus(status);
    return false;
  }
  return r == 0;
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
  waitUntil([&] { return !running(); }, timeout);
  return status_;
}

bool Process::waitForLog(const std::string& text, std::chrono::milliseconds timeout, std::size_t count) const {
  return waitUntil([&] { return countOf(log(), text) >= count; }, timeout);
}

std::string Process::waitForEndpoint(const std::string& marker, std::chrono::milliseconds timeout) const {
  std::regex pattern(marker + " (tcp://127\\.0\\.0\\.1:[0-9]+)");
  std::string endpoint;
  waitUntil(
      [&] {
        std::smatch match;
        auto text = log();
        if (!std::regex_search(text, match, pattern)) return false;
        endpoint = match[1];
        return true;
      },
      timeout);
  return endpoint;
}

std::size_t countOf(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + needle.size())) ++n;
  return n;
}

std::string adminUrlOf(const Process& process, std::chrono::milliseconds timeout) {
  if (!process.waitForLog("admin listening on ", timeout)) return "";
  std::smatch match;
  auto log = process.log();
  if (!std::regex_search(log, match, std::regex("admin listening on (https?://127\\.0\\.0\\.1:[0-9]+)"))) return "";
  return match[1];
}

RunResult runProgram(const std::string& program, const std::vector<std::string>& args, const std::string& stdinText,
                     std::chrono::milliseconds timeout) {
  auto base = fs::temp_directory_path() / ("strata-run-" + std::to_string(::getpid()) + "-" +
                                           std::to_string(std::random_device{}()));
  auto inPath = base.string() + ".in";
  auto outPath = base.string() + ".out";
  auto errPath = base.string() + ".err";
  std::ofstream(inPath, std::ios::binary) << stdinText;
  int in = ::open(inPath.c_str(), O_RDONLY | O_CLOEXEC);
  int out = ::open(outPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err = ::open(errPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  pid_t pid = spawn(program, args, in, out, err);
  ::close(in);
  ::close(out);
  ::close(err);
  RunResult result;
  int status = 0;
  bool exited = waitUntil([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, timeout);
  if (!exited) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    result.exitCode = -1;
  } else {
    result.exitCode = decodeStatus(status);
  }
  result.out = readFile(outPath);
  result.err = readFile(errPath);
  fs::remove(inPath);
  fs::remove(outPath);
  fs::remove(errPath);
  return result;
}

std::string brokerBinary() { return STRATA_BINARY_DIR "/bin/strata-broker"; }
std::string nodeBinary() { return STRATA_BINARY_DIR "/bin/strata-node"; }
std::string cliBinary() { return STRATA_BINARY_DIR "/bin/strata"; }

Cluster::Cluster() {
  dir_ = fs::temp_directory_path() /
         ("strata-it-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}()));
  fs::create_directories(dir_);
}

Cluster::~Cluster() {
  nodes_.clear();
  broker_.reset();
  std::error_code ignored;
  fs::remove_all(dir_, ignored);
}

void Cluster::addIdentity(const std::string& name, std::optional<int> layer) {
  auto pair = core::generateKeyPair();
  core::writeKeyPair(dir_ / name, pair);
  if (layer) {
    authorized_ += pair.publicKey.z85() + " " + name + " " + std::to_string(*layer) + "\n";
    std::ofstream(dir_ / "authorized_keys") << authorized_;
  }
}

fs::path Cluster::writeConfig(const std::string& file, const std::map<std::string, std::string>& keys) const {
  auto path = dir_ / file;
  std::ofstream out(path);
  for (const auto& [k, v] : keys) out << k << "=" << v << "\n";
  return path;
}

std::map<std::string, std::string> Cluster::brokerSettings(const std::map<std::string, std::string>& extra) const {
  std::map<std::string, std::string> keys{{"strata.broker.bind", "tcp://127.0.0.1:*"},
                                          {"strata.key", keyFile("broker").string()},
                                          {"strata.authorized_keys", (dir_ / "authorized_keys").string()},
                                          {"strata.heartbeat_ms", "200"}};
  for (const auto& [k, v] : extra) keys[k] = v;
  return keys;
}

Cluster::ExtraBroker Cluster::startExtraBroker(const std::string& name,
                                               const std::map<std::string, std::string>& extra) {
  auto config = writeConfig(name + ".properties", brokerSettings(extra));
  auto& process = startProcess(brokerBinary(), {"--config", config.string()}, name + ".log");
  auto endpoint = process.waitForEndpoint("listening on", kStartTimeout);
  if (endpoint.empty()) throw std::runtime_error(name + " did not start:\n" + process.log());
  return {process, endpoint};
}

std::string Cluster::startBroker(const std::map<std::string, std::string>& extra) {
  auto config = writeConfig("broker.properties", brokerSettings(extra));
  broker_ = std::make_unique<Process>(brokerBinary(), std::vector<std::string>{"--config", config.string()},
                                      dir_ / "broker.log");
  brokerEndpoint_ = broker_->waitForEndpoint("listening on", kStartTimeout);
  if (brokerEndpoint_.empty()) throw std::runtime_error("broker did not start:\n" + broker_->log());
  return brokerEndpoint_;
}

Process& Cluster::startNode(const std::string& name, const std::string& services,
                            const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> keys{{"strata.brokers", brokerEndpoint_},
                                          {"strata.key", keyFile(name).string()},
                                          {"strata.broker_key", pubFile("broker").string()},
                                          {"strata.services", services},
                                          {"strata.node.name", name},
                                          {"strata.heartbeat_ms", "200"}};
  for (const auto& [k, v] : extra) keys[k] = v;
  auto config = writeConfig(name + ".properties", keys);
  auto registered = countOf(broker_->log(), "worker registered name=" + name + " ");
  nodes_.push_back(std::make_unique<Process>(nodeBinary(), std::vector<std::string>{"--config", config.string()},
                                             dir_ / (name + ".log")));
  if (!broker_->waitForLog("worker registered name=" + name + " ", kStartTimeout, registered + 1)) {
    throw std::runtime_error("node " + name + " did not register:\n" + nodes_.back()->log());
  }
  return *nodes_.back();
}

Process& Cluster::startProcess(const std::string& program, const std::vector<std::string>& args,
                               const std::string& log) {
  nodes_.push_back(std::make_unique<Process>(program, args, dir_ / log));
  return *nodes_.back();
}

nodes::ClientOptions Cluster::clientOptions(const std::string& identity) const {
  nodes::ClientOptions o;
  o.endpoints = {brokerEndpoint_};
  o.secretKey = std::make_shared<core::SecretKey>(core::loadSecretKey(keyFile(identity)));
  o.serverKey = core::loadPublicKey(pubFile("broker"));
  return o;
}

fs::path Cluster::clientConfig(const std::string& identity) const {
  return writeConfig(identity + "-client.properties", {{"strata.brokers", brokerEndpoint_},
                                                      {"strata.key", keyFile(identity).string()},
                                                      {"strata.broker_key", pubFile("broker").string()}});
}

}  // namespace strata::test
