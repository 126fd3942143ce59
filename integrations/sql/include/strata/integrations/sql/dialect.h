#pragma once

#include <string_view>

namespace strata::integrations::sql {

// The database behind the integration. It decides the placeholder syntax written into
// prepared statements, the quoting rules the scanner knows and how a transaction begins.
enum class Dialect {
  kSqlite,      // Poco::Data::SQLite; placeholders ?1, ?2, ...
  kPostgresql,  // Poco::Data::PostgreSQL (libpq); placeholders $1, $2, ...
};

// The connector name as the config spells it ("sqlite", "postgresql") and Poco registers it.
constexpr std::string_view connectorName(Dialect dialect) {
  return dialect == Dialect::kSqlite ? "sqlite" : "postgresql";
}

}  // namespace strata::integrations::sql
