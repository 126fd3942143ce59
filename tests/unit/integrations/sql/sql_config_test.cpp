#include <gtest/gtest.h>

#include <strata/core/errors.h>
#include <strata/integrations/sql/sql_config.h>

namespace strata::integrations::sql {
namespace {

std::string refusal(const std::map<std::string, std::string>& keys) {
  try {
    SqlConfig::fromKeys(keys, "/data");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "accepted";
}

TEST(SqlConfig, DefaultsToSqliteFileInTheDataDir) {
  auto config = SqlConfig::fromKeys({{"statement.list", "SELECT 1"}}, "/var/lib/strata");
  EXPECT_EQ(config.dialect, Dialect::kSqlite);
  EXPECT_EQ(config.database, "/var/lib/strata/sql.db");
  EXPECT_EQ(config.maxRows, 10000u);
  EXPECT_FALSE(config.initFile);
  ASSERT_EQ(config.statements.size(), 1u);
  EXPECT_EQ(config.statements.at("list"), "SELECT 1");
}

TEST(SqlConfig, ReadsEveryKey) {
  auto config = SqlConfig::fromKeys({{"connector", "postgresql"},
                                     {"database", "host=db dbname=app"},
                                     {"init", "/etc/strata/schema.sql"},
                                     {"max_rows", "5"},
                                     {"max_body_bytes", "2048"},
                                     {"max_steps", "7"},
                                     {"pool_size", "3"},
                                     {"request_retention_s", "60"},
                                     {"statements", "a, b"},
                                     {"statement.a", "SELECT 1"},
                                     {"statement.b", "SELECT 2"}},
                                    "/data");
  EXPECT_EQ(config.dialect, Dialect::kPostgresql);
  EXPECT_EQ(config.database, "host=db dbname=app");
  EXPECT_EQ(config.initFile->string(), "/etc/strata/schema.sql");
  EXPECT_EQ(config.maxRows, 5u);
  EXPECT_EQ(config.maxBodyBytes, 2048u);
  EXPECT_EQ(config.maxSteps, 7u);
  EXPECT_EQ(config.poolSize, 3u);
  EXPECT_EQ(config.retentionSeconds, 60);
  EXPECT_EQ(config.statements.size(), 2u);
}

TEST(SqlConfig, RefusalsNameTheKey) {
  EXPECT_NE(refusal({{"connector", "mysql"}}).find("strata.plugin.sql.connector"), std::string::npos);
  EXPECT_NE(refusal({{"connector", "postgresql"}}).find("strata.plugin.sql.database"), std::string::npos);
  EXPECT_NE(refusal({{"max_rows", "0"}}).find("strata.plugin.sql.max_rows"), std::string::npos);
  EXPECT_NE(refusal({{"max_rows", "ten"}}).find("strata.plugin.sql.max_rows"), std::string::npos);
  EXPECT_NE(refusal({{"pool_size", "1x"}}).find("strata.plugin.sql.pool_size"), std::string::npos);
  EXPECT_NE(refusal({{"max_body_bytes", "-1"}}).find("strata.plugin.sql.max_body_bytes"), std::string::npos);
  EXPECT_NE(refusal({{"colour", "red"}}).find("strata.plugin.sql.colour"), std::string::npos);
  EXPECT_NE(refusal({{"statements", "a"}}).find("strata.plugin.sql.statement.a"), std::string::npos);
}

TEST(SqlConfig, StatementNamesWithOddCharactersAreRefused) {
  for (const char* name : {"statement.a b", "statement.a;b", "statement.", "statement.x'--"}) {
    auto text = refusal({{name, "SELECT 1"}});
    EXPECT_NE(text.find(std::string("strata.plugin.sql.") + name), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace strata::integrations::sql
