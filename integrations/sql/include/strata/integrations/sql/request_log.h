#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include <Poco/Data/Session.h>

#include <strata/integrations/sql/dialect.h>

namespace strata::integrations::sql {

// The table that makes effects happen once: one row per request id that changed the
// database, written in the same transaction as the change, holding the reply that was
// sent. The id's PRIMARY KEY lets the database decide between two racing copies of one
// request: the second copy's claim waits for the first's transaction and then fails.
//
//   strata_sql_requests(id VARCHAR(32) PRIMARY KEY,  -- the 16-byte id in hex
//                       reply TEXT NOT NULL,          -- the JSON reply body
//                       at BIGINT NOT NULL)           -- Unix time in ms of the claim
//
// Stateless apart from the dialect; every call runs on the caller's session and throws
// Poco::Data exceptions from the database.
class RequestLog {
 public:
  static constexpr std::string_view kTable = "strata_sql_requests";

  explicit RequestLog(Dialect dialect) : dialect_(dialect) {}

  // The time claim() and prune() speak of: Unix time in milliseconds.
  static long long nowMs();
  // The key of a 16-byte request id: its 32 hex digits.
  static std::string keyOf(const std::array<std::uint8_t, 16>& id);

  // Creates the table and its index if missing.
  void createTable(Poco::Data::Session& session) const;
  // Deletes the records claimed before cutoffMs (Unix ms): a retry of such an id applies again.
  void prune(Poco::Data::Session& session, long long cutoffMs) const;
  // The stored reply of a completed request, or nullopt.
  std::optional<std::string> find(Poco::Data::Session& session, const std::string& id) const;
  // Inserts the id inside the caller's transaction, before the effect. Throws when the id
  // is there already (or appears meanwhile: then after the other transaction ends).
  void claim(Poco::Data::Session& session, const std::string& id, long long nowMs) const;
  // Stores the reply of a claimed id, inside the same transaction.
  void complete(Poco::Data::Session& session, const std::string& id, const std::string& reply) const;

 private:
  std::string placeholder(int position) const;
  Dialect dialect_;
};

}  // namespace strata::integrations::sql
