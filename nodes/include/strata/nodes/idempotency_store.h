#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>

#include <strata/core/message_id.h>
#include <strata/core/sqlite.h>
#include <strata/nodes/messages.h>

struct sqlite3;

namespace strata::nodes {

// Remembers the outcome of each request id a worker has completed, in a SQLite file, so
// that a retried id (the same request sent again through another broker, or after a
// restart) gets the stored answer and the handler does not run twice. Entries older than
// the window are forgotten. Thread-safe: one connection behind a mutex.
class IdempotencyStore {
 public:
  static constexpr std::chrono::milliseconds kDefaultWindow{24 * 3600 * 1000};

  // Opens (creating if needed) the file, in WAL mode with synchronous=FULL. Throws ConfigError.
  IdempotencyStore(const std::filesystem::path& file, std::chrono::milliseconds window = kDefaultWindow);
  ~IdempotencyStore();
  IdempotencyStore(const IdempotencyStore&) = delete;
  IdempotencyStore& operator=(const IdempotencyStore&) = delete;

  std::optional<Outcome> find(const core::MessageId& id);
  void record(const core::MessageId& id, const Outcome& outcome);

  // Runs work inside one transaction on the store's connection and records the outcome it
  // returns in the same transaction: a handler whose effects live in this database applies
  // them exactly once. If work throws, nothing is kept. Throws std::runtime_error on a
  // SQLite failure (the request then fails and may be retried).
  Outcome transaction(const core::MessageId& id, const std::function<Outcome(sqlite3*)>& work);

  // Forgets entries older than the window; returns how many.
  std::size_t prune();

 private:
  void recordLocked(const core::MessageId& id, const Outcome& outcome);
  void exec(const char* sql);

  std::mutex mutex_;
  core::SqliteDatabase database_;
  sqlite3* db_;  // database_'s handle
  std::chrono::milliseconds window_;
};

}  // namespace strata::nodes
