#include <strata/integrations/sql/sql_service.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include <Poco/Data/RecordSet.h>
#include <Poco/Data/SQLite/SQLiteException.h>
#include <Poco/Data/Statement.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <strata/codecs/payload.h>
#include <strata/core/errors.h>

#include <strata/integrations/sql/connection_pool.h>
#include <strata/integrations/sql/request_log.h>
#include "sql_scanner.h"
#include "value_mapping.h"

namespace strata::integrations::sql {

namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

// Names and values from a request are quoted in error texts only up to this length.
constexpr std::size_t kMaxQuoted = 64;

std::string quote(std::string_view text) {
  std::string out(text.substr(0, kMaxQuoted));
  if (text.size() > kMaxQuoted) out += "...";
  return "'" + out + "'";
}



bool isObject(const Poco::Dynamic::Var& value) { return value.type() == typeid(Object::Ptr); }

ServiceResult malformed(std::string text) { return ServiceResult::failure(STRATA_ERROR_MALFORMED, std::move(text)); }

// Decodes a request body into value; the answer to give instead when it is over
// maxBytes (too_large, unread) or not JSON (malformed).
std::optional<ServiceResult> decodeBody(std::string_view body, std::size_t maxBytes, Poco::Dynamic::Var& value) {
  if (body.size() > maxBytes) {
    return ServiceResult::failure(STRATA_ERROR_TOO_LARGE, "the body has " + std::to_string(body.size()) +
                                                              " bytes; at most " + std::to_string(maxBytes) +
                                                              " (strata.plugin.sql.max_body_bytes)");
  }
  codecs::PayloadLimits limits;
  limits.maxBytes = maxBytes;
  auto decoded = codecs::jsonCodec().decode(body, limits);
  if (!decoded.ok()) return malformed("the body is not JSON: " + decoded.error);
  value = std::move(decoded.value);
  return std::nullopt;
}

// PostgreSQL's SQLSTATE for a write attempted in a read-only transaction.
constexpr std::string_view kReadOnlyTransactionState = "25006";

// The SQLSTATE a PostgreSQL error's text carries ("... State: 23505 ..."), or empty.
std::string sqlState(const Poco::Exception& error) {
  static constexpr std::string_view kStateMarker = "State: ";
  static constexpr std::size_t kStateLength = 5;
  const std::string text = error.displayText();
  auto at = text.find(kStateMarker);
  if (at == std::string::npos) return {};
  return text.substr(at + kStateMarker.size(), kStateLength);
}

// What the caller should make of a database error: a refusal of the request's data
// (constraints, bad values: SQLSTATE classes 23 and 22) is the caller's to fix and
// retrying will not help; anything else is the database's state.
strata_error classify(const Poco::Exception& error) {
  if (dynamic_cast<const Poco::Data::SQLite::ConstraintViolationException*>(&error) != nullptr ||
      dynamic_cast<const Poco::Data::SQLite::DataTypeMismatchException*>(&error) != nullptr) {
    return STRATA_ERROR_MALFORMED;
  }
  std::string stateClass = sqlState(error).substr(0, 2);
  if (stateClass == "23" || stateClass == "22") return STRATA_ERROR_MALFORMED;
  return STRATA_ERROR_UNAVAILABLE;
}

std::string configKey(std::string_view key) { return std::string(SqlConfig::kKeyPrefix) + std::string(key); }

}  // namespace

struct SqlService::Step {
  const NamedStatement* statement = nullptr;
  std::vector<Poco::Dynamic::Var> values;  // in the order of statement->parameters()
};

namespace {

// Reads one {"statement": ..., "params": {...}} into step; returns the error, if any.
std::optional<std::string> parseStep(const std::map<std::string, NamedStatement>& statements,
                                     const Poco::Dynamic::Var& value, const std::vector<std::string>& allowed,
                                     const NamedStatement*& statementOut, std::vector<Poco::Dynamic::Var>& valuesOut) {
  if (!isObject(value)) return "must be a JSON object";
  auto object = value.extract<Object::Ptr>();
  for (const auto& name : object->getNames()) {
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) return "has an unknown member " + quote(name);
  }
  auto name = object->get("statement");
  if (!name.isString()) return "needs \"statement\", the name of a configured statement, as a string";
  auto statementName = name.convert<std::string>();
  if (!NamedStatement::isValidName(statementName)) return "names no statement: " + quote(statementName) + " is not a statement name";
  auto found = statements.find(statementName);
  if (found == statements.end()) return "names an unknown statement " + quote(statementName);
  const NamedStatement& statement = found->second;

  Object::Ptr params;
  auto rawParams = object->get("params");
  if (isObject(rawParams)) {
    params = rawParams.extract<Object::Ptr>();
  } else if (!rawParams.isEmpty()) {
    return "has \"params\" that is not a JSON object";
  }
  const auto& wanted = statement.parameters();
  if (params) {
    for (const auto& given : params->getNames()) {
      if (std::find(wanted.begin(), wanted.end(), given) == wanted.end()) {
        return "has an extra parameter " + quote(given) + " for statement " + quote(statementName);
      }
    }
  }
  std::vector<Poco::Dynamic::Var> values;
  for (const auto& parameter : wanted) {
    if (!params || !params->has(parameter)) {
      return "misses parameter " + quote(parameter) + " of statement " + quote(statementName);
    }
    auto bound = bindValue(params->get(parameter));
    if (!bound) {
      return "has parameter " + quote(parameter) +
             " of a type SQL cannot take: use a string, a number (64-bit integer or finite), a boolean or null";
    }
    values.push_back(std::move(*bound));
  }
  statementOut = &statement;
  valuesOut = std::move(values);
  return std::nullopt;
}

// Runs one statement and describes its outcome; takes at most rowBudget rows and lowers
// the budget by what it took. Throws Poco::Exception from the database.
Object::Ptr execute(Poco::Data::Session& session, const NamedStatement& statement,
                    const std::vector<Poco::Dynamic::Var>& values, std::size_t& rowBudget) {
  Poco::Data::Statement sql(session);
  sql << statement.sql();
  for (const auto& value : values) sql, Poco::Data::Keywords::bind(value);
  // One row beyond the budget tells whether there were more.
  sql, Poco::Data::Keywords::limit(static_cast<Poco::UInt32>(rowBudget + 1));
  std::size_t count = sql.execute();

  Object::Ptr result = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
  Array::Ptr rows = new Array;
  bool truncated = false;
  std::size_t affected = count;
  if (sql.extractionCount() > 0) {
    Poco::Data::RecordSet records(sql);
    std::size_t available = records.rowCount();
    std::size_t kept = std::min(available, rowBudget);
    truncated = available > kept;
    for (std::size_t row = 0; row < kept; ++row) {
      Object::Ptr out = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
      for (std::size_t column = 0; column < records.columnCount(); ++column) {
        out->set(records.columnName(column), jsonValue(records.value(column, row)));
      }
      rows->add(out);
    }
    rowBudget -= kept;
    affected = kept;
  }
  result->set("rows", rows);
  result->set("affected", static_cast<Poco::Int64>(affected));
  result->set("truncated", truncated);
  return result;
}

}  // namespace

SqlService::SqlService(const SqlConfig& config) : config_(config), log_(std::make_unique<RequestLog>(config.dialect)) {
  for (const auto& [name, text] : config_.statements) {
    std::string key = configKey(std::string(SqlConfig::kStatementPrefix) + name);
    try {
      statements_.emplace(name, NamedStatement(name, text, config_.dialect));
    } catch (const std::invalid_argument& e) {
      throw ConfigError(key + ": the statement " + e.what());
    }
  }

  if (config_.dialect == Dialect::kSqlite) {
    // Checked here because the connector would retry a file it cannot create for seconds.
    auto parent = std::filesystem::absolute(config_.database).parent_path();
    if (!std::filesystem::is_directory(parent)) {
      throw ConfigError(configKey("database") + ": cannot open the SQLite file " + config_.database + ": " +
                        parent.string() + " is not a directory");
    }
  }
  try {
    pool_ = std::make_unique<ConnectionPool>(config_.dialect, config_.database, config_.poolSize);
  } catch (const std::exception& e) {
    std::string what = config_.dialect == Dialect::kSqlite ? "the SQLite file " + config_.database
                                                           : std::string("the PostgreSQL database");
    const auto* poco = dynamic_cast<const Poco::Exception*>(&e);
    throw ConfigError(configKey("database") + ": cannot open " + what + ": " + (poco ? poco->displayText() : e.what()));
  }

  auto lease = pool_->acquire();
  Poco::Data::Session& session = lease.session();
  if (config_.initFile) {
    std::ifstream file(*config_.initFile, std::ios::binary);
    std::stringstream text;
    text << file.rdbuf();
    if (!file) throw ConfigError(configKey("init") + ": cannot read " + config_.initFile->string());
    std::vector<std::string> script;
    try {
      script = splitScript(text.str(), config_.dialect);
    } catch (const std::invalid_argument& e) {
      throw ConfigError(configKey("init") + ": " + config_.initFile->string() + ": " + e.what());
    }
    for (std::size_t i = 0; i < script.size(); ++i) {
      try {
        session << script[i], Poco::Data::Keywords::now;
      } catch (const Poco::Exception& e) {
        throw ConfigError(configKey("init") + ": statement " + std::to_string(i + 1) + " of " +
                          config_.initFile->string() + " failed: " + e.displayText());
      }
    }
  }
  try {
    log_->createTable(session);
    log_->prune(session, RequestLog::nowMs() - config_.retentionSeconds * 1000);
  } catch (const Poco::Exception& e) {
    throw ConfigError("cannot create or prune the table " + std::string(RequestLog::kTable) + ": " + e.displayText());
  }
  // EXPLAIN compiles the statement against the schema (and, on PostgreSQL, infers every
  // parameter's type) without running it.
  for (const auto& [name, statement] : statements_) {
    try {
      Poco::Data::Statement explain(session);
      explain << "EXPLAIN " + statement.sql();
      for (std::size_t i = 0; i < statement.parameters().size(); ++i) explain, Poco::Data::Keywords::bind(Poco::Dynamic::Var());
      explain.execute();
    } catch (const Poco::Exception& e) {
      throw ConfigError(configKey(std::string(SqlConfig::kStatementPrefix) + name) +
                        ": the statement does not prepare: " + e.displayText());
    }
  }
}

SqlService::~SqlService() = default;

ServiceResult SqlService::query(const RequestId& id, std::string_view body) {
  Poco::Dynamic::Var value;
  if (auto refused = decodeBody(body, config_.maxBodyBytes, value)) return *refused;
  std::vector<Step> steps(1);
  if (auto error = parseStep(statements_, value, {"statement", "params"}, steps[0].statement, steps[0].values)) {
    return malformed("the request " + *error);
  }
  return run(id, steps, false);
}

ServiceResult SqlService::transaction(const RequestId& id, std::string_view body) {
  Poco::Dynamic::Var value;
  if (auto refused = decodeBody(body, config_.maxBodyBytes, value)) return *refused;
  if (!isObject(value)) return malformed("the body must be a JSON object {\"steps\": [...]}");
  auto object = value.extract<Object::Ptr>();
  for (const auto& name : object->getNames()) {
    if (name != "steps") return malformed("the request has an unknown member " + quote(name));
  }
  auto rawSteps = object->get("steps");
  if (rawSteps.type() != typeid(Array::Ptr)) return malformed("the request needs \"steps\", a JSON array");
  auto array = rawSteps.extract<Array::Ptr>();
  if (array->size() == 0) return malformed("\"steps\" is empty");
  if (array->size() > config_.maxSteps) {
    return malformed("\"steps\" has " + std::to_string(array->size()) + " steps; at most " +
                     std::to_string(config_.maxSteps) + " (strata.plugin.sql.max_steps)");
  }
  std::vector<Step> steps(array->size());
  for (std::size_t i = 0; i < array->size(); ++i) {
    if (auto error = parseStep(statements_, array->get(static_cast<unsigned>(i)), {"statement", "params"},
                               steps[i].statement, steps[i].values)) {
      return malformed("step " + std::to_string(i + 1) + " " + *error);
    }
  }
  return run(id, steps, true);
}

ServiceResult SqlService::run(const RequestId& id, const std::vector<Step>& steps, bool asTransaction) {
  const Dialect dialect = config_.dialect;
  // A request made only of SELECTs is not recorded: a retry reads again. On PostgreSQL it
  // runs in a read-only transaction; when that refuses a write (a SELECT with an effect),
  // nothing was done and the request runs again as one that is recorded.
  bool record = std::any_of(steps.begin(), steps.end(), [](const Step& s) { return !s.statement->readOnly(); });
  std::optional<ConnectionPool::Lease> lease;
  try {
    lease.emplace(pool_->acquire());
  } catch (const PoolExhausted& e) {
    return ServiceResult::failure(STRATA_ERROR_UNAVAILABLE, e.what());
  } catch (const Poco::Exception& e) {
    return ServiceResult::failure(STRATA_ERROR_UNAVAILABLE, "cannot open a database session: " + e.displayText());
  }
  Poco::Data::Session& session = lease->session();
  const std::string key = RequestLog::keyOf(id);
  bool open = false;        // a transaction is open on session
  std::size_t current = 0;  // the step running, for error texts; 0 before the first
  // Rolls back what is open; false when the session's state is unknown (then discarded).
  auto abandon = [&]() noexcept {
    if (!open) return true;
    open = false;
    try {
      rollbackTransaction(session, dialect);
      return true;
    } catch (...) {
      lease->discard();  // its state is unknown: never reuse it
      return false;
    }
  };
  while (true) {  // at most twice: unrecorded and read-only, then recorded
    current = 0;
    try {
      if (record) {
        if (auto stored = log_->find(session, key)) return ServiceResult::success(*stored);
      }
      if (record || steps.size() > 1 || dialect == Dialect::kPostgresql) {
        beginTransaction(session, dialect, record);
        open = true;
      }
      if (record) {
        try {
          log_->claim(session, key, RequestLog::nowMs());
        } catch (const Poco::Exception&) {
          // Most likely a copy of this request committed first: answer as it did.
          abandon();
          if (auto stored = log_->find(session, key)) return ServiceResult::success(*stored);
          throw;
        }
      }
      std::size_t rowBudget = config_.maxRows;
      Array::Ptr results = new Array;
      Object::Ptr single;
      for (const auto& step : steps) {
        ++current;
        single = execute(session, *step.statement, step.values, rowBudget);
        results->add(single);
      }
      current = 0;
      Poco::Dynamic::Var reply;
      if (asTransaction) {
        Object::Ptr out = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
        out->set("results", results);
        reply = out;
      } else {
        reply = single;
      }
      std::string body = codecs::jsonCodec().encode(reply);
      if (record) log_->complete(session, key, body);
      if (open) {
        commitTransaction(session, dialect);
        open = false;
      }
      return ServiceResult::success(std::move(body));
    } catch (const Poco::Exception& e) {
      bool clean = abandon();
      if (!record && clean && sqlState(e) == kReadOnlyTransactionState) {
        record = true;  // a SELECT with an effect, refused before it had one
        continue;
      }
      std::string where = current == 0 ? std::string("the request failed")
                                       : "statement " + quote(steps[current - 1].statement->name()) +
                                             (asTransaction ? " (step " + std::to_string(current) + ")" : "") +
                                             " failed";
      return ServiceResult::failure(classify(e), where + " and changed nothing: " + e.displayText());
    } catch (const std::exception& e) {
      abandon();
      return ServiceResult::failure(STRATA_ERROR_INTERNAL,
                                    std::string("the request failed and changed nothing: ") + e.what());
    }
  }
}

}  // namespace strata::integrations::sql
