#include <strata/nodes/idempotency_store.h>

#include <sqlite3.h>

#include <stdexcept>

#include <strata/codecs/wire_codec.h>
#include <strata/core/errors.h>
#include <strata/core/sqlite.h>

#include "frames.h"

namespace strata::nodes {

namespace {

using core::SqliteStatement;

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
  return codecs::packFrames(frames);
}

std::optional<Outcome> deserialize(std::string_view blob) {
  auto frames = codecs::unpackFrames(blob);
  if (!frames) return std::nullopt;
  // Stored by a node of protocol version 1: read as the same answer in today's version.
  std::vector<std::string> upgraded;
  if (auto v2 = codecs::upgradeVersion1(*frames)) {
    upgraded = std::move(*v2);
    frames->assign(upgraded.begin(), upgraded.end());
  }
  auto decoded = codecs::decode(codecs::Frames(frames->data(), frames->size()));
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
    : database_(file), db_(database_.handle()), window_(window) {
  try {
    exec("CREATE TABLE IF NOT EXISTS strata_completed ("
         " id BLOB PRIMARY KEY, outcome BLOB NOT NULL, completed_ms INTEGER NOT NULL)");
    exec("CREATE INDEX IF NOT EXISTS strata_completed_age ON strata_completed(completed_ms)");
  } catch (const std::exception& e) {
    throw ConfigError("cannot prepare the idempotency store " + file.string() + ": " + e.what());
  }
  prune();
}

IdempotencyStore::~IdempotencyStore() = default;

void IdempotencyStore::exec(const char* sql) { database_.exec(sql); }

std::optional<Outcome> IdempotencyStore::find(const core::MessageId& id) {
  std::lock_guard lock(mutex_);
  SqliteStatement s(db_, "SELECT outcome FROM strata_completed WHERE id = ? AND completed_ms >= ?");
  s.bindBlob(1, id.bytes());
  s.bindInt(2, nowMs() - window_.count());
  if (!s.step()) return std::nullopt;
  return deserialize(s.blob(0));
}

void IdempotencyStore::recordLocked(const core::MessageId& id, const Outcome& outcome) {
  SqliteStatement s(db_, "INSERT OR REPLACE INTO strata_completed (id, outcome, completed_ms) VALUES (?, ?, ?)");
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
    SqliteStatement s(db_, "SELECT outcome FROM strata_completed WHERE id = ?");
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
  SqliteStatement s(db_, "DELETE FROM strata_completed WHERE completed_ms < ?");
  s.bindInt(1, nowMs() - window_.count());
  s.step();
  return static_cast<std::size_t>(sqlite3_changes(db_));
}

}  // namespace strata::nodes
