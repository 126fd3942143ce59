#include <strata/integrations/sql/sql_config.h>

#include <set>
#include <string>

#include <strata/core/errors.h>
#include <strata/integrations/common/whole_number.h>
#include <strata/integrations/sql/named_statement.h>

namespace strata::integrations::sql {

namespace {

std::string fullKey(std::string_view key) { return std::string(SqlConfig::kKeyPrefix) + std::string(key); }

long long wholeNumber(const std::map<std::string, std::string>& keys, const std::string& key, long long fallback,
                      long long min, long long max) {
  auto it = keys.find(key);
  return wholeNumberSetting(it == keys.end() ? std::nullopt : std::optional<std::string>(it->second), fullKey(key),
                            fallback, min, max);
}

std::vector<std::string> splitList(const std::string& text) {
  std::vector<std::string> items;
  std::string item;
  auto flush = [&] {
    auto begin = item.find_first_not_of(" \t");
    if (begin != std::string::npos) items.push_back(item.substr(begin, item.find_last_not_of(" \t") - begin + 1));
    item.clear();
  };
  for (char c : text) {
    if (c == ',') {
      flush();
    } else {
      item.push_back(c);
    }
  }
  flush();
  return items;
}

}  // namespace

SqlConfig SqlConfig::fromKeys(const std::map<std::string, std::string>& keys, const std::filesystem::path& dataDir) {
  static const std::set<std::string> kKnown = {"connector", "database",  "init",      "max_rows", "max_body_bytes",
                                               "max_steps", "pool_size", "statements", "request_retention_s"};
  SqlConfig config;
  for (const auto& [key, value] : keys) {
    if (key.starts_with(kStatementPrefix)) {
      std::string name = key.substr(kStatementPrefix.size());
      if (!NamedStatement::isValidName(name)) {
        throw ConfigError(fullKey(key) + ": a statement name must be 1 to " +
                          std::to_string(NamedStatement::kMaxNameLength) + " of the characters A-Z a-z 0-9 _ . -");
      }
      config.statements.emplace(name, value);
    } else if (kKnown.count(key) == 0) {
      throw ConfigError("unknown key " + fullKey(key));
    }
  }

  auto connector = keys.find("connector");
  if (connector != keys.end() && connector->second != connectorName(Dialect::kSqlite)) {
    if (connector->second != connectorName(Dialect::kPostgresql)) {
      throw ConfigError(fullKey("connector") + " must be sqlite or postgresql, not '" + connector->second + "'");
    }
    config.dialect = Dialect::kPostgresql;
  }
  auto database = keys.find("database");
  if (database != keys.end() && !database->second.empty()) {
    config.database = database->second;
  } else if (config.dialect == Dialect::kSqlite) {
    config.database = (dataDir / kDefaultSqliteFile).string();
  } else {
    throw ConfigError(fullKey("database") + " must be a libpq connection string when the connector is postgresql");
  }
  auto init = keys.find("init");
  if (init != keys.end() && !init->second.empty()) config.initFile = init->second;

  auto listed = keys.find("statements");
  if (listed != keys.end()) {
    for (const auto& name : splitList(listed->second)) {
      if (config.statements.count(name) == 0) {
        throw ConfigError(fullKey("statements") + " lists '" + name + "' but " + fullKey("statement." + name) +
                          " is not set");
      }
    }
  }

  auto size = [&](const char* key, std::size_t fallback, std::size_t max) {
    return static_cast<std::size_t>(
        wholeNumber(keys, key, static_cast<long long>(fallback), 1, static_cast<long long>(max)));
  };
  config.maxRows = size("max_rows", kDefaultMaxRows, kMaxMaxRows);
  config.maxBodyBytes = size("max_body_bytes", kDefaultMaxBodyBytes, kMaxMaxBodyBytes);
  config.maxSteps = size("max_steps", kDefaultMaxSteps, kMaxMaxSteps);
  config.poolSize = size("pool_size", kDefaultPoolSize, kMaxPoolSize);
  constexpr long long kMaxRetentionSeconds = 10LL * 365 * 24 * 3600;
  config.retentionSeconds =
      wholeNumber(keys, "request_retention_s", kDefaultRetentionSeconds, 1, kMaxRetentionSeconds);
  return config;
}

}  // namespace strata::integrations::sql
