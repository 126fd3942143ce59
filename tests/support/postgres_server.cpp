#include "postgres_server.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>
#include <stdexcept>

#include "cluster.h"

namespace strata::test {

namespace fs = std::filesystem;

namespace {

// A port the kernel has just handed out; the server binds it a moment later.
int freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string findBin() {
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql")) {
    if (fs::exists(entry.path() / "bin" / "pg_ctl")) return (entry.path() / "bin").string();
  }
  throw std::runtime_error("PostgreSQL is not installed (Debian's postgresql package)");
}

RunResult asPostgres(const std::vector<std::string>& command) {
  std::vector<std::string> args{"-u", "postgres", "--"};
  args.insert(args.end(), command.begin(), command.end());
  return runProgram("/usr/sbin/runuser", args, "", std::chrono::seconds(60));
}

}  // namespace

PostgresServer::PostgresServer() : bin_(findBin()) {
  dir_ = fs::temp_directory_path() / ("strata-pg-" + std::to_string(::getpid()) + "-" +
                                      std::to_string(std::random_device{}()));
  fs::create_directories(dir_ / "data");
  runProgram("/bin/chown", {"-R", "postgres:postgres", dir_.string()});
  auto init = asPostgres({bin_ + "/initdb", "-D", (dir_ / "data").string(), "-A", "trust", "-U", "postgres"});
  if (init.exitCode != 0) throw std::runtime_error("initdb failed: " + init.out + init.err);
  port_ = freePort();
  start();
  uri_ = "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/postgres";
}

void PostgresServer::start() {
  auto started = asPostgres({bin_ + "/pg_ctl", "-D", (dir_ / "data").string(), "-l", (dir_ / "server.log").string(),
                             "-w", "-o",
                             "-c listen_addresses=127.0.0.1 -p " + std::to_string(port_) + " -k " + dir_.string(),
                             "start"});
  if (started.exitCode != 0) {
    throw std::runtime_error("PostgreSQL did not start: " + started.out + started.err + readFile(dir_ / "server.log"));
  }
}

void PostgresServer::stop() {
  auto stopped = asPostgres({bin_ + "/pg_ctl", "-D", (dir_ / "data").string(), "-m", "immediate", "-w", "stop"});
  if (stopped.exitCode != 0) throw std::runtime_error("PostgreSQL did not stop: " + stopped.out + stopped.err);
}

PostgresServer::~PostgresServer() {
  asPostgres({bin_ + "/pg_ctl", "-D", (dir_ / "data").string(), "-m", "immediate", "-w", "stop"});
  std::error_code ignored;
  fs::remove_all(dir_, ignored);
}

}  // namespace strata::test
