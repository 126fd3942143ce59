// The SQL integration as a plug-in: reads strata.plugin.sql.* through the host, builds
// an SqlService and offers sql.query and sql.transaction. Everything else is in
// strata_sql_core.
#include <map>
#include <memory>
#include <string>

#include <strata/codecs/payload.h>
#include <strata/core/errors.h>
#include <strata/integrations/sql/sql_config.h>
#include <strata/integrations/sql/sql_service.h>
#include <strata/plugin.h>

namespace {

using strata::integrations::sql::SqlConfig;
using strata::integrations::sql::SqlService;
using strata::integrations::sql::ServiceResult;

class SqlPlugin : public strata::plugin::Plugin {
 public:
  explicit SqlPlugin(strata::plugin::Host& host) {
    std::map<std::string, std::string> keys;
    for (const auto& key : host.configKeys()) keys.emplace(key, host.config(key).value_or(""));
    SqlConfig config = SqlConfig::fromKeys(keys, host.dataDir());
    service_ = std::make_unique<SqlService>(config);
    host.addService(std::string(SqlService::kQueryService), [this](const auto& request, auto& reply) {
      answer(request, reply, [&](std::string_view body) { return service_->query(request.id(), body); });
    });
    host.addService(std::string(SqlService::kTransactionService), [this](const auto& request, auto& reply) {
      answer(request, reply, [&](std::string_view body) { return service_->transaction(request.id(), body); });
    });
    host.info("sql: " + std::to_string(service_->statements().size()) + " statements ready on " +
              std::string(strata::integrations::sql::connectorName(config.dialect)));
  }

 private:
  template <class Run>
  static void answer(const strata::plugin::Request& request, strata::plugin::Reply& reply, Run run) {
    auto type = request.header(strata::codecs::kContentTypeHeader);
    if (type && strata::codecs::findPayloadCodec(*type) != &strata::codecs::jsonCodec()) {
      reply.error(STRATA_ERROR_MALFORMED, "the body must be application/json, not '" + std::string(*type) + "'");
      return;
    }
    ServiceResult result = run(request.body());
    if (!result.ok()) {
      reply.error(result.code, result.text);
      return;
    }
    reply.header(strata::codecs::kContentTypeHeader, strata::codecs::kJsonType);
    reply.frame(result.body);
  }

  std::unique_ptr<SqlService> service_;
};

}  // namespace

STRATA_PLUGIN(SqlPlugin, "sql", "1.0.0", "named SQL statements on SQLite or PostgreSQL, each request applied once",
              "connector", "database", "init", "max_rows", "max_body_bytes", "max_steps", "pool_size", "statements",
              "request_retention_s", "statement.*")
