#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <strata/integrations/sql/dialect.h>

namespace strata::integrations::sql {

// A run of SQL text: either code, where keywords, placeholders and ';' mean something, or
// an opaque run (a string literal, a quoted identifier, a comment, a PostgreSQL
// dollar-quoted body) whose characters are data and must be copied as they are.
struct SqlSegment {
  bool code = true;
  std::string text;
};

// Splits SQL text into segments by the quoting rules of the dialect: '...' (with ''),
// "..." (with ""), -- to the end of the line, /* */ (nested on PostgreSQL), on SQLite
// `...` and [...], on PostgreSQL E'...' (backslash escapes) and $tag$...$tag$.
// Concatenating the segments' texts gives the input back. Throws std::invalid_argument
// on an unterminated literal, identifier or comment.
std::vector<SqlSegment> scanSql(std::string_view text, Dialect dialect);

// Splits a script (the init file) into its statements at each ';' in code; comments
// stay with the statement they precede; pieces with no code are dropped. Throws as scanSql.
std::vector<std::string> splitScript(std::string_view text, Dialect dialect);

}  // namespace strata::integrations::sql
