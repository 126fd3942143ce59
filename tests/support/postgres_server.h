#pragma once

#include <filesystem>
#include <string>

namespace strata::test {

// A real PostgreSQL server (Debian's package) for tests: its own data directory under
// the temp directory, on 127.0.0.1 and a free port, run as the postgres user (initdb and
// pg_ctl refuse root). Stopped and removed on destruction.
class PostgresServer {
 public:
  // Throws std::runtime_error with the server's log if it does not start.
  PostgresServer();
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // A libpq URI for the server's postgres database.
  const std::string& uri() const { return uri_; }

  // Stops the server at once (pg_ctl -m immediate: as if it crashed); start() brings it
  // back on the same port with the same data. Both throw std::runtime_error on failure.
  void stop();
  void start();

 private:
  std::filesystem::path dir_;
  std::string bin_;
  std::string uri_;
  int port_ = 0;
};

}  // namespace strata::test
