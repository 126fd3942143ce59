#include <strata/nodes/idempotency_store.h>

#include <sqlite3.h>

#include <stdexcept>

#include <strata/codecs/wire_codec.h>
#include <strata/core/errors.h>

#include "frames.h"

namespace strata::nodes {

namespace {

// A prepared statement, finalized on every path out.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string("idempotency store: ") + sqlite3_errmsg(db));
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  void bindBlob(int index, std::string_view blob) {
    sqlite3_bind_blob(stmt_, index, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
  }
  void bindInt(int index, long long value) { sqlite3_bind_int64(stmt_, index, value); }
  // True for a row, false when done; throws on an error.
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw std::runtime_error(std::string("idempotency store: ") + sqlite3_errmsg(db_));
  }
  std::string_view blob(int column) {
    auto* data = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
    return {data ? data : "", static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))};
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

long long nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// An outcome is stored as the frames of the REPLY or ERROR it became, length-prefixed.
std::string serialize(const core::MessageId& id, const Outcome& outcome) {
  std::vector<std::string> frames;
  if (outcome.error) {
    frames = codecs::encode(codecs::Error{id, outcome.error->first, outcome.error->second});
  } else {
    frames = codecs::encode(codecs::Reply{id, detail::viewHeaders(outcome.headers), detail::viewBody(outcome.body)});
  }
  std::string out;
  for (const auto& f : frames) out += codecs::encodeU32(static_cast<std::uint32_t>(f.size())) + f;
  return out;
}

std::optional<Outcome> deserialize(std::string_view blob) {
  std::vector<std::string_view> frames;
  while (blob.size() >= 4) {
    auto size = codecs::readU32(blob.substr(0, 4));
    blob.remove_prefix(4);
    if (size > blob.size()) return std::nullopt;
    frames.push_back(blob.substr(0, size));
    blob.remove_prefix(size);
  }
  auto decoded = codecs::decode(codecs::Frames(frames.data(), frames.size()));
  if (!decoded.ok()) return std::nullopt;
  if (auto* reply = std::get_if<codecs::Reply>(&decoded.message)) {
    return Outcome::reply(detail::ownBody(reply->body), detail::ownHeaders(reply->headers));
  }
  if (auto* error = std::get_if<codecs::Error>(&decoded.message)) {
    return Outcome::failure(error->code, std::string(error->text));
  }
  return std::nullopt;
}

}  // namespace

IdempotencyStore::IdempotencyStore(const std::filesystem::path& file, std::chrono::milliseconds window)
    : window_(window) {
  if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw ConfigError("cannot open the idempotency store " + file.string() + ": " + why);
  }
  try {
    sqlite3_busy_timeout(db_, 5000);
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");
    exec("CREATE TABLE IF NOT EXISTS strata_completed ("
         " id BLOB PRIMARY KEY, outcome BLOB NOT NULL, completed_ms INTEGER NOT NULL)");
    exec("CREATE INDEX IF NOT EXISTS strata_completed_age ON strata_completed(completed_ms)");
  } catch (const std::exception& e) {
    sqlite3_close(db_);
    throw ConfigError("cannot prepare the idempotency store " + file.string() + ": " + e.what());
  }
  prune();
}

IdempotencyStore::~IdempotencyStore() { sqlite3_close(db_); }

void IdempotencyStore::exec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string text = error ? error : "unknown error";
    sqlite3_free(error);
    throw std::runtime_error(text);
  }
}

std::optional<Outcome> IdempotencyStore::find(const core::MessageId& id) {
  std::lock_guard lock(mutex_);
  Statement s(db_, "SELECT outcome FROM strata_completed WHERE id = ? AND completed_ms >= ?");
  s.bindBlob(1, id.bytes());
  s.bindInt(2, nowMs() - window_.count());
  if (!s.step()) return std::nullopt;
  return deserialize(s.blob(0));
}

void IdempotencyStore::recordLocked(const core::MessageId& id, const Outcome& outcome) {
  Statement s(db_, "INSERT OR REPLACE INTO strata_completed (id, outcome, completed_ms) VALUES (?, ?, ?)");
  s.bindBlob(1, id.bytes());
  s.bindBlob(2, serialize(id, outcome));
  s.bindInt(3, nowMs());
  s.step();
}

void IdempotencyStore::record(const core::MessageId& id, const Outcome& outcome) {
  std::lock_guard lock(mutex_);
  recordLocked(id, outcome);
}

Outcome IdempotencyStore::transaction(const core::MessageId& id, const std::function<Outcome(sqlite3*)>& work) {
  std::lock_guard lock(mutex_);
  exec("BEGIN IMMEDIATE");
  try {
    // Another connection (a second worker on the same file) may have finished this id
    // since the caller looked: the write lock taken above makes this check final.
    Statement s(db_, "SELECT outcome FROM strata_completed WHERE id = ?");
    s.bindBlob(1, id.bytes());
    if (s.step()) {
      if (auto stored = deserialize(s.blob(0))) {
        exec("COMMIT");
        stored->recorded = true;
        return *stored;
      }
    }
    Outcome outcome = work(db_);
    recordLocked(id, outcome);
    exec("COMMIT");
    outcome.recorded = true;
    return outcome;
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

std::size_t IdempotencyStore::prune() {
  std::lock_guard lock(mutex_);
  Statement s(db_, "DELETE FROM strata_completed WHERE completed_ms < ?");
  s.bindInt(1, nowMs() - window_.count());
  s.step();
  return static_cast<std::size_t>(sqlite3_changes(db_));
}

}  // namespace strata::nodes
