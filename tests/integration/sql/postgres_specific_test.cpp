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

// A service whose SELECT statements have effects: a sequence, a function that writes,
// a row lock; and plain reads.
SqlService selectsWithEffects(const strata::test::PostgresServer& server, const core::test::TempDir& dir) {
  std::ofstream(dir / "effects.sql")
      << "CREATE TABLE IF NOT EXISTS counts (name TEXT PRIMARY KEY, n INTEGER NOT NULL);\n"
         "CREATE SEQUENCE IF NOT EXISTS ticket;\n"
         "CREATE OR REPLACE FUNCTION add_count(who TEXT) RETURNS INTEGER AS $$\n"
         "  INSERT INTO counts (name, n) VALUES (who, 1) RETURNING n;\n"
         "$$ LANGUAGE sql;\n";
  auto config = configFor(server, dir);
  config.initFile = dir / "effects.sql";
  config.statements["ticket"] = "SELECT nextval('ticket') AS ticket";
  config.statements["add"] = "SELECT add_count(:name) AS n";
  config.statements["lock"] = "SELECT n FROM counts WHERE name = :name FOR UPDATE";
  config.statements["how_many"] = "SELECT count(*) AS c FROM counts";
  config.statements["last_ticket"] = "SELECT last_value, is_called FROM ticket";
  config.statements["recorded"] = "SELECT count(*) AS c FROM strata_sql_requests";
  return SqlService(config);
}

RequestId requestId(std::uint8_t n) {
  RequestId id{};
  id[0] = n;
  return id;
}

TEST(PostgresConnector, SelectNextvalIsDoneOncePerRequestId) {
  strata::test::PostgresServer server;
  core::test::TempDir dir;
  auto service = selectsWithEffects(server, dir);
  const std::string ticket = R"({"statement":"ticket"})";
  auto first = service.query(requestId(1), ticket);
  ASSERT_TRUE(first.ok()) << first.text;
  EXPECT_EQ(first.body, R"({"rows":[{"ticket":1}],"affected":1,"truncated":false})");
  auto retry = service.query(requestId(1), ticket);
  ASSERT_TRUE(retry.ok()) << retry.text;
  EXPECT_EQ(retry.body, first.body);  // the stored reply: the sequence did not advance again
  auto last = service.query(requestId(2), R"({"statement":"last_ticket"})");
  EXPECT_EQ(last.body, R"({"rows":[{"last_value":1,"is_called":true}],"affected":1,"truncated":false})");
  auto next = service.query(requestId(3), ticket);
  EXPECT_EQ(next.body, R"({"rows":[{"ticket":2}],"affected":1,"truncated":false})");
}

TEST(PostgresConnector, SelectOfAFunctionThatWritesIsDoneOncePerRequestId) {
  strata::test::PostgresServer server;
  core::test::TempDir dir;
  auto service = selectsWithEffects(server, dir);
  const std::string add = R"({"statement":"add","params":{"name":"a"}})";
  auto first = service.query(requestId(1), add);
  ASSERT_TRUE(first.ok()) << first.text;
  // Run twice, the insert would break the primary key; recorded, the retry is answered.
  auto retry = service.query(requestId(1), add);
  ASSERT_TRUE(retry.ok()) << retry.text;
  EXPECT_EQ(retry.body, first.body);
  auto transaction = service.transaction(
      requestId(2), R"({"steps":[{"statement":"how_many"},{"statement":"add","params":{"name":"b"}}]})");
  ASSERT_TRUE(transaction.ok()) << transaction.text;
  EXPECT_EQ(service.transaction(requestId(2), R"({"steps":[{"statement":"how_many"},{"statement":"add","params":{"name":"b"}}]})")
                .body,
            transaction.body);
  EXPECT_EQ(service.query(requestId(3), R"({"statement":"how_many"})").body,
            R"({"rows":[{"c":2}],"affected":1,"truncated":false})");
  auto locked = service.query(requestId(4), R"({"statement":"lock","params":{"name":"a"}})");
  ASSERT_TRUE(locked.ok()) << locked.text;
  EXPECT_EQ(locked.body, R"({"rows":[{"n":1}],"affected":1,"truncated":false})");
}

TEST(PostgresConnector, PlainSelectsStayUnrecordedReads) {
  strata::test::PostgresServer server;
  core::test::TempDir dir;
  auto service = selectsWithEffects(server, dir);
  const std::string count = R"({"statement":"how_many"})";
  EXPECT_EQ(service.query(requestId(1), count).body, R"({"rows":[{"c":0}],"affected":1,"truncated":false})");
  ASSERT_TRUE(service.query(requestId(2), R"({"statement":"put","params":{"name":"a","n":1}})").ok());
  // The same id reads again (not a stored reply), and reads record nothing.
  EXPECT_EQ(service.query(requestId(1), count).body, R"({"rows":[{"c":1}],"affected":1,"truncated":false})");
  EXPECT_EQ(service.query(requestId(3), R"({"statement":"recorded"})").body,
            R"({"rows":[{"c":1}],"affected":1,"truncated":false})");
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
