// The behaviour suite's database in the unit tests: a real SQLite file in a temp dir.
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>

#include "sql_backend.h"
#include "temp_dir.h"

namespace strata::integrations::sql::test {

namespace {

class SqliteBackend : public SqlBackend {
 public:
  SqliteBackend() { Poco::Data::SQLite::Connector::registerConnector(); }

  SqlConfig config() const override {
    SqlConfig config;
    config.dialect = Dialect::kSqlite;
    config.database = (dir_.path() / "sql.db").string();
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
    if (!session_) session_ = std::make_unique<Poco::Data::Session>("sqlite", (dir_.path() / "sql.db").string());
    return *session_;
  }
  core::test::TempDir dir_;
  std::unique_ptr<Poco::Data::Session> session_;
};

}  // namespace

std::unique_ptr<SqlBackend> makeBackend() { return std::make_unique<SqliteBackend>(); }

}  // namespace strata::integrations::sql::test
