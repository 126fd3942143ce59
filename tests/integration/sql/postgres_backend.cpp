// The behaviour suite's database in the integration tests: a real PostgreSQL server,
// started for each test (tests/support/postgres_server.h) and removed after it.
#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/Session.h>

#include <strata/integrations/sql/connection_pool.h>
#include "postgres_server.h"
#include "sql_backend.h"
#include "temp_dir.h"

namespace strata::integrations::sql::test {

namespace {

class PostgresBackend : public SqlBackend {
 public:
  PostgresBackend() { Poco::Data::PostgreSQL::Connector::registerConnector(); }

  SqlConfig config() const override {
    SqlConfig config;
    config.dialect = Dialect::kPostgresql;
    config.database = server_.uri();  // the URI form, as a user may write it
    return config;
  }
  const std::filesystem::path& dataDir() const override { return dir_.path(); }
  void exec(const std::string& sql) override { session() << sql, Poco::Data::Keywords::now; }
  long long count(const std::string& sql) override {
    Poco::Int64 n = -1;
    session() << sql, Poco::Data::Keywords::into(n), Poco::Data::Keywords::now;
    return n;
  }

 private:
  Poco::Data::Session& session() {
    if (!session_) {
      session_ = std::make_unique<Poco::Data::Session>("postgresql", ConnectionPool::libpqKeyValues(server_.uri()));
    }
    return *session_;
  }
  core::test::TempDir dir_;
  strata::test::PostgresServer server_;
  std::unique_ptr<Poco::Data::Session> session_;
};

}  // namespace

std::unique_ptr<SqlBackend> makeBackend() { return std::make_unique<PostgresBackend>(); }

}  // namespace strata::integrations::sql::test
