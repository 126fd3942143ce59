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

 private:
  std::filesystem::path dir_;
  std::string bin_;
  std::string uri_;
};

}  // namespace strata::test
