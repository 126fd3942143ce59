#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include <strata/integrations/sql/dialect.h>

namespace strata::integrations::sql {

// The integration's settings: the keys under strata.plugin.sql. (listed in docs/integrations.md).
struct SqlConfig {
  static constexpr std::string_view kKeyPrefix = "strata.plugin.sql.";
  static constexpr std::string_view kStatementPrefix = "statement.";
  static constexpr std::string_view kDefaultSqliteFile = "sql.db";
  static constexpr std::size_t kDefaultMaxRows = 10000;
  static constexpr std::size_t kMaxMaxRows = 1000000;
  // Bodies over this are refused unread (the same default as the payload codecs).
  static constexpr std::size_t kDefaultMaxBodyBytes = 1024 * 1024;
  static constexpr std::size_t kMaxMaxBodyBytes = 64 * 1024 * 1024;
  static constexpr std::size_t kDefaultMaxSteps = 100;
  static constexpr std::size_t kMaxMaxSteps = 10000;
  // Sessions the pool opens at most; handlers beyond that wait for one.
  static constexpr std::size_t kDefaultPoolSize = 4;
  static constexpr std::size_t kMaxPoolSize = 256;
  // How long request ids are kept for exactly-once answers (pruned at start).
  static constexpr long long kDefaultRetentionSeconds = 7LL * 24 * 3600;

  Dialect dialect = Dialect::kSqlite;
  // The SQLite file, or a libpq connection string (key=value pairs or a postgresql:// URI).
  std::string database;
  std::optional<std::filesystem::path> initFile;
  std::map<std::string, std::string> statements;  // name -> SQL text as configured
  std::size_t maxRows = kDefaultMaxRows;
  std::size_t maxBodyBytes = kDefaultMaxBodyBytes;
  std::size_t maxSteps = kDefaultMaxSteps;
  std::size_t poolSize = kDefaultPoolSize;
  long long retentionSeconds = kDefaultRetentionSeconds;

  // Reads the keys given without the "strata.plugin.sql." prefix ("connector",
  // "statement.insert_note", ...). dataDir is where the default SQLite file goes. When
  // "statements" is set (a comma-separated list of names), each listed name must have its
  // statement.<name> key. Throws strata::ConfigError naming the full key on a bad value,
  // an unknown key or a statement name with characters outside [A-Za-z0-9_.-].
  static SqlConfig fromKeys(const std::map<std::string, std::string>& keys, const std::filesystem::path& dataDir);
};

}  // namespace strata::integrations::sql
