// What only the SQLite connector does: its file, WAL and synchronous=FULL.
#include <gtest/gtest.h>

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>

#include <strata/core/errors.h>
#include <strata/integrations/sql/sql_service.h>

#include <strata/integrations/sql/connection_pool.h>
#include "temp_dir.h"

namespace strata::integrations::sql {
namespace {

TEST(SqliteConnector, DefaultFileInTheDataDirIsInWalMode) {
  core::test::TempDir dir;
  auto config = SqlConfig::fromKeys({{"statement.now", "SELECT 1 AS one"}}, dir.path());
  SqlService service(config);
  ASSERT_TRUE(std::filesystem::exists(dir / "sql.db"));
  Poco::Data::Session session("sqlite", (dir / "sql.db").string());
  std::string mode;
  session << "PRAGMA journal_mode", Poco::Data::Keywords::into(mode), Poco::Data::Keywords::now;
  EXPECT_EQ(mode, "wal");
}

TEST(SqliteConnector, PooledSessionsUseSynchronousFull) {
  core::test::TempDir dir;
  ConnectionPool pool(Dialect::kSqlite, (dir / "x.db").string(), 2);
  auto lease = pool.acquire();
  int synchronous = -1;
  lease.session() << "PRAGMA synchronous", Poco::Data::Keywords::into(synchronous), Poco::Data::Keywords::now;
  EXPECT_EQ(synchronous, 2);  // FULL
}

TEST(SqliteConnector, UnopenableFileIsRefusedAtStartNamingTheKey) {
  core::test::TempDir dir;
  SqlConfig config;
  config.database = (dir / "no" / "such" / "dir" / "x.db").string();
  try {
    SqlService service(config);
    FAIL() << "opened a file in a missing directory";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("strata.plugin.sql.database"), std::string::npos) << e.what();
  }
}

TEST(ConnectionPool, PostgresUriBecomesKeyValuePairs) {
  EXPECT_EQ(ConnectionPool::libpqKeyValues("postgresql://app:secret@db.local:5433/notes?sslmode=require"),
            "host=db.local port=5433 user=app password=secret dbname=notes sslmode=require");
  EXPECT_EQ(ConnectionPool::libpqKeyValues("host=db dbname=x"), "host=db dbname=x");
  EXPECT_THROW(ConnectionPool::libpqKeyValues("postgresql://a@h/db?options=-c%20x%3Dy"), std::invalid_argument);
}

}  // namespace
}  // namespace strata::integrations::sql
