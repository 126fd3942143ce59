#include <strata/integrations/sql/request_log.h>

#include <chrono>
#include <vector>

#include <strata/core/message_id.h>

#include <Poco/Data/Statement.h>

namespace strata::integrations::sql {

using Poco::Data::Keywords::bind;
using Poco::Data::Keywords::into;
using Poco::Data::Keywords::now;

long long RequestLog::nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string RequestLog::keyOf(const std::array<std::uint8_t, 16>& id) { return core::MessageId(id).hex(); }

std::string RequestLog::placeholder(int position) const {
  return (dialect_ == Dialect::kSqlite ? "?" : "$") + std::to_string(position);
}

void RequestLog::createTable(Poco::Data::Session& session) const {
  const std::string table(kTable);
  session << "CREATE TABLE IF NOT EXISTS " + table +
                 " (id VARCHAR(32) PRIMARY KEY, reply TEXT NOT NULL, at BIGINT NOT NULL)",
      now;
  session << "CREATE INDEX IF NOT EXISTS " + table + "_at ON " + table + " (at)", now;
}

void RequestLog::prune(Poco::Data::Session& session, long long cutoffMs) const {
  session << "DELETE FROM " + std::string(kTable) + " WHERE at < " + placeholder(1), bind(Poco::Int64(cutoffMs)), now;
}

std::optional<std::string> RequestLog::find(Poco::Data::Session& session, const std::string& id) const {
  std::vector<std::string> replies;
  session << "SELECT reply FROM " + std::string(kTable) + " WHERE id = " + placeholder(1), bind(id), into(replies),
      now;
  if (replies.empty()) return std::nullopt;
  return replies.front();
}

void RequestLog::claim(Poco::Data::Session& session, const std::string& id, long long nowMs) const {
  session << "INSERT INTO " + std::string(kTable) + " (id, reply, at) VALUES (" + placeholder(1) + ", '', " +
                 placeholder(2) + ")",
      bind(id), bind(Poco::Int64(nowMs)), now;
}

void RequestLog::complete(Poco::Data::Session& session, const std::string& id, const std::string& reply) const {
  session << "UPDATE " + std::string(kTable) + " SET reply = " + placeholder(1) + " WHERE id = " + placeholder(2),
      bind(reply), bind(id), now;
}

}  // namespace strata::integrations::sql
