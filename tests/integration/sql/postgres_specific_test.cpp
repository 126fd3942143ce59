// What only the PostgreSQL connector does: it infers each parameter's type when the
// statement is prepared, and checks values against column types.
#include <gtest/gtest.h>

#include <fstream>

#include <strata/core/errors.h>
#include <strata/integrations/sql/sql_service.h>

#include "postgres_server.h"
#include "temp_dir.h"

namespace strata::integrations::sql {
namespace {

SqlConfig configFor(const strata::test::PostgresServer& server, const core::test::TempDir& dir) {
  std::ofstream(dir / "schema.sql") << "CREATE TABLE IF NOT EXISTS counts (name TEXT PRIMARY KEY, n INTEGER NOT NULL);";
  SqlConfig config;
  config.dialect = Dialect::kPostgresql;
  config.database = server.uri();
  config.initFile = dir / "schema.sql";
  config.statements["put"] = "INSERT INTO counts (name, n) VALUES (:name, :n)";
  return config;
}

TEST(PostgresConnector, ParameterWhoseTypeCannotBeDeterminedIsRefusedAtStart) {
  strata::test::PostgresServer server;
  core::test::TempDir dir;
  auto config = configFor(server, dir);
  config.statements["vague"] = "SELECT :x IS NULL AS missing";
  try {
    SqlService service(config);
    FAIL() << "started with a parameter of unknown type";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("strata.plugin.sql.statement.vague"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("could not determine data type"), std::string::npos) << e.what();
  }
  config.statements["vague"] = "SELECT CAST(:x AS TEXT) IS NULL AS missing";  // a cast settles it
  EXPECT_NO_THROW(SqlService{config});
}

TEST(PostgresConnector, ValueTheColumnTypeRefusesIsMalformedWithoutEffect) {
  strata::test::PostgresServer server;
  core::test::TempDir dir;
  SqlService service(configFor(server, dir));
  RequestId id{};
  id[0] = 1;
  auto result = service.query(id, R"({"statement":"put","params":{"name":"a","n":"not a number"}})");
  EXPECT_EQ(result.code, STRATA_ERROR_MALFORMED);
  EXPECT_NE(result.text.find("22P02"), std::string::npos) << result.text;
  auto fine = service.query(id, R"({"statement":"put","params":{"name":"a","n":3}})");
  EXPECT_TRUE(fine.ok()) << fine.text;  // the failed attempt left no record of its id
}

TEST(PostgresConnector, UnreachableServerIsRefusedAtStartNamingTheKey) {
  SqlConfig config;
  config.dialect = Dialect::kPostgresql;
  config.database = "host=127.0.0.1 port=1 user=nobody connect_timeout=2";
  try {
    SqlService service(config);
    FAIL() << "started without a server";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("strata.plugin.sql.database"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace strata::integrations::sql
