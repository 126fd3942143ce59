#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <strata/integrations/sql/named_statement.h>
#include <strata/integrations/sql/sql_config.h>
#include <strata/plugin_abi.h>

namespace strata::integrations::sql {

class ConnectionPool;
class RequestLog;

using RequestId = std::array<std::uint8_t, 16>;

// What a service call answers: a JSON body, or an error code (the wire's strata_error)
// with a text for the caller.
struct ServiceResult {
  strata_error code = STRATA_OK;
  std::string text;  // the error, when code is not STRATA_OK
  std::string body;  // the JSON reply, when it is

  bool ok() const { return code == STRATA_OK; }
  static ServiceResult success(std::string body) { return {STRATA_OK, {}, std::move(body)}; }
  static ServiceResult failure(strata_error code, std::string text) { return {code, std::move(text), {}}; }
};

// The SQL integration's two services over one database.
//
//   sql.query        {"statement": "name", "params": {"p": value, ...}}
//                 -> {"rows": [{"column": value, ...}], "affected": N, "truncated": false}
//   sql.transaction  {"steps": [{"statement": ..., "params": ...}, ...]}
//                 -> {"results": [<a sql.query reply per step>]}   (all steps or none)
//
// Clients name statements of the config; they never send SQL, and every value is bound.
// A request that changes the database is done once per request id: the id is recorded in
// the same transaction as the change, and a retry (even one racing the first copy) gets
// the stored reply. A request made only of queries (SELECT) is not recorded: on
// PostgreSQL it runs in a READ ONLY transaction, and when the server refuses a write in
// it (SQLSTATE 25006: nextval, a function that writes, SELECT ... FOR UPDATE) it has
// done nothing, and runs again as a recorded request, so that it too is done once. On
// SQLite a SELECT cannot write (no functions that write are registered, extensions are
// not loadable).
//
// Errors, none of which leaves an effect: STRATA_ERROR_TOO_LARGE for a body over
// max_body_bytes; STRATA_ERROR_MALFORMED for bad JSON, an unknown statement, a missing or
// extra parameter, a value of the wrong type, and for a request the database refuses
// for its data (a constraint, a bad value); STRATA_ERROR_UNAVAILABLE when the database
// fails otherwise or every session stays busy.
//
// Thread-safe: handlers call query() and transaction() from many threads at once.
class SqlService {
 public:
  static constexpr std::string_view kQueryService = "sql.query";
  static constexpr std::string_view kTransactionService = "sql.transaction";

  // Opens the database, runs the init file, creates the request table, prunes old
  // request records and prepares every named statement once (EXPLAIN with NULLs, which
  // has no effect). Throws strata::ConfigError naming the key at fault.
  explicit SqlService(const SqlConfig& config);
  ~SqlService();
  SqlService(const SqlService&) = delete;
  SqlService& operator=(const SqlService&) = delete;

  ServiceResult query(const RequestId& id, std::string_view body);
  ServiceResult transaction(const RequestId& id, std::string_view body);

  const std::map<std::string, NamedStatement>& statements() const { return statements_; }

 private:
  struct Step;
  ServiceResult run(const RequestId& id, const std::vector<Step>& steps, bool asTransaction);

  SqlConfig config_;
  std::map<std::string, NamedStatement> statements_;
  std::unique_ptr<ConnectionPool> pool_;
  std::unique_ptr<RequestLog> log_;
};

}  // namespace strata::integrations::sql
