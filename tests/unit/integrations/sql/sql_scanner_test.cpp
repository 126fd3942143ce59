#include <gtest/gtest.h>

#include "sql_scanner.h"

namespace strata::integrations::sql {
namespace {

std::string joined(const std::vector<SqlSegment>& segments) {
  std::string out;
  for (const auto& s : segments) out += s.text;
  return out;
}

TEST(SqlScanner, LiteralsIdentifiersAndCommentsAreOpaque) {
  std::string text = "SELECT 'a;b''c', \"x;y\" -- c;d\n FROM t /* e; */ WHERE z = 1";
  auto segments = scanSql(text, Dialect::kSqlite);
  EXPECT_EQ(joined(segments), text);
  for (const auto& s : segments) {
    if (s.code) {
      EXPECT_EQ(s.text.find(';'), std::string::npos) << s.text;
    }
  }
}

TEST(SqlScanner, PostgresDollarQuotesAndEscapeStringsAreOpaque) {
  std::string text = "SELECT $tag$ it's ; $tag$, E'a\\'; b', $$x;y$$, $1";
  auto segments = scanSql(text, Dialect::kPostgresql);
  EXPECT_EQ(joined(segments), text);
  std::string code;
  for (const auto& s : segments) {
    if (s.code) code += s.text;
  }
  EXPECT_EQ(code.find(';'), std::string::npos) << code;
  EXPECT_NE(code.find("$1"), std::string::npos);  // a positional parameter stays code
}

TEST(SqlScanner, UnterminatedTextIsRefused) {
  for (const char* text : {"SELECT 'abc", "SELECT \"x", "SELECT /* open", "SELECT [x"}) {
    EXPECT_THROW(scanSql(text, Dialect::kSqlite), std::invalid_argument) << text;
  }
  EXPECT_THROW(scanSql("SELECT $a$ body", Dialect::kPostgresql), std::invalid_argument);
  EXPECT_THROW(scanSql("SELECT E'a\\'", Dialect::kPostgresql), std::invalid_argument);
}

TEST(SqlScanner, ScriptSplitsAtSemicolonsInCodeOnly) {
  auto statements = splitScript(
      "-- header; comment\nCREATE TABLE a (x TEXT DEFAULT ';');\n\n;  \nINSERT INTO a VALUES ('1;2');\n-- tail\n",
      Dialect::kSqlite);
  ASSERT_EQ(statements.size(), 2u);
  EXPECT_NE(statements[0].find("CREATE TABLE a (x TEXT DEFAULT ';')"), std::string::npos);
  EXPECT_NE(statements[1].find("INSERT INTO a VALUES ('1;2')"), std::string::npos);
}

}  // namespace
}  // namespace strata::integrations::sql
