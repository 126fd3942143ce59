#include <strata/broker/journal.h>

#include <libpq-fe.h>

#include <array>
#include <stdexcept>

#include <strata/codecs/wire_codec.h>
#include <strata/core/errors.h>

namespace strata::broker {

namespace {

std::int64_t unixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One result, cleared on every path out.
class Result {
 public:
  explicit Result(PGresult* r) : r_(r) {}
  ~Result() { PQclear(r_); }
  Result(Result&& other) noexcept : r_(other.r_) { other.r_ = nullptr; }
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;
  Result& operator=(Result&&) = delete;
  PGresult* get() const { return r_; }
  std::string_view field(int row, int column) const {
    return {PQgetvalue(r_, row, column), static_cast<std::size_t>(PQgetlength(r_, row, column))};
  }

 private:
  PGresult* r_;
};

std::int64_t readI64(std::string_view eight) {
  std::uint64_t v = 0;
  for (char c : eight) v = (v << 8) | static_cast<std::uint8_t>(c);
  return static_cast<std::int64_t>(v);
}

}  // namespace

struct PostgresJournal::Connection {
  PGconn* conn = nullptr;
  ~Connection() { PQfinish(conn); }

  // Runs sql with text or binary parameters; results come back binary. Throws on failure.
  Result run(const char* sql, const std::vector<std::string>& params, const std::vector<int>& binary) {
    std::vector<const char*> values;
    std::vector<int> lengths;
    for (const auto& p : params) {
      values.push_back(p.data());
      lengths.push_back(static_cast<int>(p.size()));
    }
    Result r(PQexecParams(conn, sql, static_cast<int>(params.size()), nullptr, values.data(), lengths.data(),
                          binary.data(), 1));
    auto status = PQresultStatus(r.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      throw std::runtime_error(std::string("journal: ") + PQerrorMessage(conn));
    }
    return r;
  }
  void exec(const char* sql) { run(sql, {}, {}); }
};

PostgresJournal::PostgresJournal(const std::string& conninfo, std::string owner, std::chrono::milliseconds lease)
    : connection_(std::make_unique<Connection>()), owner_(std::move(owner)), lease_(lease) {
  connection_->conn = PQconnectdb(conninfo.c_str());
  if (PQstatus(connection_->conn) != CONNECTION_OK) {
    throw ConfigError(std::string("cannot connect to the journal database: ") + PQerrorMessage(connection_->conn));
  }
  try {
    connection_->exec("SET client_min_messages = warning");
    connection_->exec(
        "CREATE TABLE IF NOT EXISTS strata_journal (id bytea PRIMARY KEY, service text NOT NULL,"
        " client text NOT NULL, deadline_ms bigint NOT NULL, frames bytea NOT NULL, owner text NOT NULL,"
        " lease_until_ms bigint NOT NULL)");
  } catch (const std::exception& e) {
    throw ConfigError(std::string("cannot prepare the journal database: ") + e.what());
  }
}

PostgresJournal::~PostgresJournal() {
  if (inTransaction_) PQclear(PQexec(connection_->conn, "ROLLBACK"));
}

void PostgresJournal::begin() {
  if (inTransaction_) return;
  connection_->exec("BEGIN");
  inTransaction_ = true;
}

void PostgresJournal::append(const JournalEntry& entry) {
  begin();
  connection_->run(
      "INSERT INTO strata_journal (id, service, client, deadline_ms, frames, owner, lease_until_ms)"
      " VALUES ($1, $2, $3, $4::bigint, $5, $6, $7::bigint) ON CONFLICT (id) DO UPDATE SET"
      " owner = EXCLUDED.owner, lease_until_ms = EXCLUDED.lease_until_ms",
      {std::string(entry.id.bytes()), entry.service, entry.clientName, std::to_string(entry.deadlineUnixMs),
       codecs::packFrames(entry.frames), owner_, std::to_string(unixMs() + lease_.count())},
      {1, 0, 0, 0, 1, 0, 0});
}

void PostgresJournal::remove(const core::MessageId& id) {
  begin();
  connection_->run("DELETE FROM strata_journal WHERE id = $1", {std::string(id.bytes())}, {1});
}

void PostgresJournal::commit() {
  if (!inTransaction_) return;
  inTransaction_ = false;
  // COMMIT returns once PostgreSQL has flushed its WAL (synchronous_commit is on by default).
  connection_->exec("COMMIT");
}

std::vector<JournalEntry> PostgresJournal::takeOver() {
  begin();
  auto now = unixMs();
  auto until = std::to_string(now + lease_.count());
  connection_->run("UPDATE strata_journal SET lease_until_ms = $1::bigint WHERE owner = $2", {until, owner_}, {0, 0});
  // Row locks make each claim exclusive: a second claimer re-reads the row, finds the new
  // lease and skips it.
  auto claimed = connection_->run(
      "UPDATE strata_journal SET owner = $1, lease_until_ms = $2::bigint"
      " WHERE lease_until_ms < $3::bigint AND owner <> $1"
      " RETURNING id, service, client, deadline_ms, frames",
      {owner_, until, std::to_string(now)}, {0, 0, 0});
  std::vector<JournalEntry> out;
  for (int row = 0; row < PQntuples(claimed.get()); ++row) {
    auto id = core::MessageId::fromBytes(claimed.field(row, 0));
    auto frames = codecs::unpackFrames(claimed.field(row, 4));
    if (!id || !frames) continue;
    out.push_back({*id, std::string(claimed.field(row, 1)), std::string(claimed.field(row, 2)),
                   readI64(claimed.field(row, 3)), std::vector<std::string>(frames->begin(), frames->end())});
  }
  return out;
}

}  // namespace strata::broker
