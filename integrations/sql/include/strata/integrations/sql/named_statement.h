#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <strata/integrations/sql/dialect.h>

namespace strata::integrations::sql {

// One statement of the node's config (strata.plugin.sql.statement.<name>), parsed once at
// start: its named parameters (:title) are found outside string literals, quoted
// identifiers and comments, and replaced by the dialect's positional placeholders, so
// values are always bound and never part of the SQL text. A parameter used twice is one
// placeholder used twice.
//
// Immutable after construction; safe to share between threads.
class NamedStatement {
 public:
  // Statement names: 1 to kMaxNameLength of [A-Za-z0-9_.-].
  static constexpr std::size_t kMaxNameLength = 64;
  static bool isValidName(std::string_view name);

  // Throws std::invalid_argument saying what is wrong: an invalid name, an empty text,
  // more than one statement, an unterminated literal or comment, or a placeholder other
  // than :name (?, ?1, $1, @x, $x), whose binding could not be determined.
  NamedStatement(std::string name, std::string_view text, Dialect dialect);

  const std::string& name() const { return name_; }
  // The SQL with the dialect's placeholders, as it is prepared.
  const std::string& sql() const { return sql_; }
  // The distinct parameter names, in placeholder order: parameters()[i] binds ?i+1 / $i+1.
  const std::vector<std::string>& parameters() const { return parameters_; }
  // True when the statement looks like a query (its first keyword is SELECT). A request
  // made only of such statements runs without recording its request id (a retry reads
  // again); SqlService checks the guess (see sql_service.h): a SELECT can have an effect.
  bool readOnly() const { return readOnly_; }

 private:
  std::string name_;
  std::string sql_;
  std::vector<std::string> parameters_;
  bool readOnly_ = false;
};

}  // namespace strata::integrations::sql
