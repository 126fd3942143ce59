// The SQL plug-in as a user runs it: strata-node with strata.plugins = sql behind a real
// broker, a SQLite file in the node's data dir, and a real client writing a row, reading
// it back, and retrying one request id.

#include <gtest/gtest.h>

#include <fstream>

#include <sqlite3.h>

#include <strata/core/message_id.h>
#include <strata/nodes/client.h>

#include "cluster.h"

namespace strata::test {
namespace {

using namespace std::chrono_literals;

long long count(const std::filesystem::path& file, const char* sql) {
  sqlite3* db = nullptr;
  long long n = -1;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
      n = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return n;
}

class SqlEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster.addIdentity("broker", std::nullopt);
    cluster.addIdentity("front", 2);
    cluster.addIdentity("sql", 1);
    cluster.startBroker();
    std::ofstream(cluster.dir() / "schema.sql") << "CREATE TABLE IF NOT EXISTS notes (title TEXT PRIMARY KEY, body TEXT);\n";
  }
  std::map<std::string, std::string> sqlConfig() const {
    return {{"strata.plugins", "sql"},
            {"strata.data_dir", (cluster.dir() / "data").string()},
            {"strata.plugin.sql.init", (cluster.dir() / "schema.sql").string()},
            {"strata.plugin.sql.statement.add_note", "INSERT INTO notes (title, body) VALUES (:title, :body)"},
            {"strata.plugin.sql.statement.get_note", "SELECT title, body FROM notes WHERE title = :title"}};
  }
  static nodes::OutgoingRequest request(const std::string& service, const std::string& body) {
    nodes::OutgoingRequest out;
    out.service = service;
    out.body = {body};
    out.headers = {{"content-type", "application/json"}};
    out.timeout = 5s;
    out.id = core::MessageId::generate();
    return out;
  }
  Cluster cluster;
};

TEST_F(SqlEndToEnd, WritesARowReadsItBackAndAppliesARetriedIdOnce) {
  auto& node = cluster.startNode("sql", "", sqlConfig());
  ASSERT_TRUE(node.waitForLog("2 statements ready on sqlite", 5s)) << node.log();
  nodes::Client client(cluster.clientOptions("front"));

  auto add = request("sql.query", R"({"statement":"add_note","params":{"title":"hello","body":"'); DROP TABLE notes; --"}})");
  auto first = client.call(add);
  ASSERT_TRUE(first.ok) << first.errorText;
  EXPECT_EQ(nodes::findHeader(first.headers, "content-type"), "application/json");
  EXPECT_EQ(first.bodyText(), R"({"rows":[],"affected":1,"truncated":false})");

  // The same request again, same id: the stored reply, not a duplicate-key error.
  auto again = client.call(add);
  ASSERT_TRUE(again.ok) << again.errorText;
  EXPECT_EQ(again.bodyText(), first.bodyText());

  auto read = client.call(request("sql.query", R"({"statement":"get_note","params":{"title":"hello"}})"));
  ASSERT_TRUE(read.ok) << read.errorText;
  EXPECT_EQ(read.bodyText(), R"({"rows":[{"title":"hello","body":"'); DROP TABLE notes; --"}],"affected":1,"truncated":false})");

  // One row, and one recorded id, in the node's SQLite file.
  EXPECT_EQ(count(cluster.dir() / "data" / "sql.db", "SELECT count(*) FROM notes"), 1);
  EXPECT_EQ(count(cluster.dir() / "data" / "sql.db", "SELECT count(*) FROM strata_sql_requests"), 1);

  // A new id with the same row is a new request: the database refuses the duplicate.
  auto duplicate = client.call(request("sql.query", add.body.front()));
  EXPECT_FALSE(duplicate.ok);
  EXPECT_EQ(duplicate.errorCode, nodes::ErrorCode::kMalformed) << duplicate.errorText;
  EXPECT_NE(duplicate.errorText.find("changed nothing"), std::string::npos) << duplicate.errorText;
}

TEST_F(SqlEndToEnd, RefusesBodiesThatAreNotJsonAndUnknownStatements) {
  cluster.startNode("sql", "", sqlConfig());
  nodes::Client client(cluster.clientOptions("front"));
  auto xml = request("sql.query", "<x/>");
  xml.headers = {{"content-type", "application/xml"}};
  auto refused = client.call(xml);
  EXPECT_EQ(refused.errorCode, nodes::ErrorCode::kMalformed) << refused.errorText;
  auto unknown = client.call(request("sql.query", R"({"statement":"DROP TABLE notes"})"));
  EXPECT_EQ(unknown.errorCode, nodes::ErrorCode::kMalformed) << unknown.errorText;
  auto transaction = client.call(request("sql.transaction", R"({"steps":[{"statement":"add_note","params":{"title":"a","body":"b"}}]})"));
  EXPECT_TRUE(transaction.ok) << transaction.errorText;
}

TEST_F(SqlEndToEnd, AStatementThatDoesNotPrepareKeepsThePluginOutNamingTheKey) {
  auto config = sqlConfig();
  config["strata.plugin.sql.statement.get_note"] = "SELECT * FROM no_such_table WHERE title = :title";
  config["strata.services"] = "echo";
  auto& node = cluster.startNode("sql", "echo", config);
  EXPECT_TRUE(node.waitForLog("strata.plugin.sql.statement.get_note", 5s)) << node.log();
  EXPECT_NE(node.log().find("no_such_table"), std::string::npos) << node.log();
}

}  // namespace
}  // namespace strata::test
