#pragma once

// The database a behaviour test runs against: the same suite (sql_behaviour_suite.cpp)
// runs on a SQLite file in the unit tests and on a real PostgreSQL server in the
// integration tests; each test binary defines makeBackend() for its database.

#include <filesystem>
#include <memory>
#include <string>

#include <strata/integrations/sql/sql_config.h>

namespace strata::integrations::sql::test {

class SqlBackend {
 public:
  virtual ~SqlBackend() = default;
  // A config for this database with no statements; dataDir() is where files may go.
  virtual SqlConfig config() const = 0;
  virtual const std::filesystem::path& dataDir() const = 0;
  // Runs SQL outside the service (its own session), for checks. Throws on failure.
  virtual void exec(const std::string& sql) = 0;
  // The single integer the query returns.
  virtual long long count(const std::string& sql) = 0;
};

std::unique_ptr<SqlBackend> makeBackend();

}  // namespace strata::integrations::sql::test
