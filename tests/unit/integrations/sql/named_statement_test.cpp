#include <gtest/gtest.h>

#include <strata/integrations/sql/named_statement.h>

namespace strata::integrations::sql {
namespace {

TEST(NamedStatement, NamedParametersBecomePositionalPlaceholders) {
  NamedStatement sqlite("insert", "INSERT INTO notes(title, body) VALUES (:title, :body)", Dialect::kSqlite);
  EXPECT_EQ(sqlite.sql(), "INSERT INTO notes(title, body) VALUES (?1, ?2)");
  EXPECT_EQ(sqlite.parameters(), (std::vector<std::string>{"title", "body"}));
  NamedStatement postgres("insert", "INSERT INTO notes(title, body) VALUES (:title, :body)", Dialect::kPostgresql);
  EXPECT_EQ(postgres.sql(), "INSERT INTO notes(title, body) VALUES ($1, $2)");
}

TEST(NamedStatement, RepeatedParameterIsOnePlaceholder) {
  NamedStatement s("q", "SELECT * FROM t WHERE a = :x OR b = :y OR c = :x", Dialect::kPostgresql);
  EXPECT_EQ(s.sql(), "SELECT * FROM t WHERE a = $1 OR b = $2 OR c = $1");
  EXPECT_EQ(s.parameters(), (std::vector<std::string>{"x", "y"}));
}

TEST(NamedStatement, ColonsInLiteralsCommentsAndCastsAreNotParameters) {
  NamedStatement s("q", "SELECT ':a', \":b\", x::text /* :c */ FROM t -- :d\n WHERE y = :e", Dialect::kPostgresql);
  EXPECT_EQ(s.parameters(), (std::vector<std::string>{"e"}));
  EXPECT_EQ(s.sql(), "SELECT ':a', \":b\", x::text /* :c */ FROM t -- :d\n WHERE y = $1");
}

TEST(NamedStatement, TrailingSemicolonIsDropped) {
  NamedStatement s("q", "DELETE FROM t WHERE a = :a;  -- done\n", Dialect::kSqlite);
  EXPECT_EQ(s.sql(), "DELETE FROM t WHERE a = ?1");
}

TEST(NamedStatement, RefusesWhatCannotBeBoundByName) {
  struct Case {
    const char* text;
    Dialect dialect;
  };
  for (const auto& c : {Case{"SELECT * FROM t WHERE a = ?", Dialect::kSqlite},
                        Case{"SELECT * FROM t WHERE a = ?1", Dialect::kSqlite},
                        Case{"SELECT * FROM t WHERE a = $1", Dialect::kPostgresql},
                        Case{"SELECT * FROM t WHERE a = $1", Dialect::kSqlite},
                        Case{"SELECT * FROM t WHERE a = @a", Dialect::kSqlite},
                        Case{"SELECT * FROM t WHERE a = $a", Dialect::kSqlite},
                        Case{"INSERT INTO t VALUES (:a); DROP TABLE t", Dialect::kSqlite},
                        Case{"SELECT 1; SELECT 2;", Dialect::kPostgresql},
                        Case{"SELECT 'open", Dialect::kSqlite},
                        Case{"   -- only a comment", Dialect::kSqlite},
                        Case{"", Dialect::kPostgresql}}) {
    EXPECT_THROW(NamedStatement("q", c.text, c.dialect), std::invalid_argument) << c.text;
  }
}

TEST(NamedStatement, NamesWithOddCharactersAreRefused) {
  for (const char* name : {"", "a b", "a;b", "a'b", "a/b", "é", "a\nb"}) {
    EXPECT_FALSE(NamedStatement::isValidName(name)) << name;
    EXPECT_THROW(NamedStatement(name, "SELECT 1", Dialect::kSqlite), std::invalid_argument) << name;
  }
  EXPECT_FALSE(NamedStatement::isValidName(std::string(NamedStatement::kMaxNameLength + 1, 'a')));
  for (const char* name : {"insert_note", "notes.list", "v2-get"}) EXPECT_TRUE(NamedStatement::isValidName(name));
}

TEST(NamedStatement, OnlySelectIsReadOnly) {
  EXPECT_TRUE(NamedStatement("q", "  /* c */ select * from t", Dialect::kSqlite).readOnly());
  EXPECT_TRUE(NamedStatement("q", "(SELECT 1)", Dialect::kSqlite).readOnly());
  EXPECT_FALSE(NamedStatement("q", "INSERT INTO t VALUES (1)", Dialect::kSqlite).readOnly());
  EXPECT_FALSE(NamedStatement("q", "WITH x AS (SELECT 1) DELETE FROM t", Dialect::kPostgresql).readOnly());
  EXPECT_FALSE(NamedStatement("q", "UPDATE t SET a = 'SELECT'", Dialect::kSqlite).readOnly());
}

}  // namespace
}  // namespace strata::integrations::sql
